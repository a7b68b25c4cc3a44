namespace Cedm.Tensors.Autograd;

/// <summary>
/// Whether ops record themselves for backward. Per thread: a no-grad scope on one thread does not change
/// another thread's recording (kernels' worker threads never record).
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    /// <summary>`using (GradMode.NoGrad()) { ... }`: ops inside record nothing (inference, EMA updates).</summary>
    public static Scope NoGrad()
    {
        _disabledDepth++;
        return new Scope();
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => _disabledDepth--;
    }

    /// <summary>
    /// `using (GradMode.EnableGrad()) { ... }`: ops inside record even within a no-grad scope (a guidance term that
    /// differentiates a classifier inside a no-grad sampler); the enclosing state returns on dispose.
    /// </summary>
    public static RestoreScope EnableGrad()
    {
        int saved = _disabledDepth;
        _disabledDepth = 0;
        return new RestoreScope(saved);
    }

    public readonly struct RestoreScope(int saved) : IDisposable
    {
        public void Dispose() => _disabledDepth = saved;
    }
}
