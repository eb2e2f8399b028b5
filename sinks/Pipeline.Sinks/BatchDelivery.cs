namespace Pipeline.Sinks; internal static class BatchDelivery { }
