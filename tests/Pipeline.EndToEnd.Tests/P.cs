public class P { [Xunit.Fact] public void T() {} }
