namespace Pipeline.Plumbing.Expressions;

/// <summary>A dotted field path such as <c>host.name</c>, split once so lookups never split again.</summary>
public sealed class FieldPath
{
    public FieldPath(string text)
    {
        Text = text;
        Segments = text.Split('.');
    }

    public string Text { get; }
    public string[] Segments { get; }

    public override string ToString() => Text;
}
