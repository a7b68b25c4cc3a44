namespace Cedm.Nn;

/// <summary>Fluent mode switches that keep the module's static type (<c>var net = new Net(rng).Eval();</c>).</summary>
public static class ModuleExtensions
{
    /// <summary>Training mode (dropout on) for the module and its descendants; returns it.</summary>
    public static T Train<T>(this T module, bool training = true) where T : Module
    {
        module.SetTraining(training);
        return module;
    }

    /// <summary>Evaluation mode (dropout off) for the module and its descendants; returns it.</summary>
    public static T Eval<T>(this T module) where T : Module
    {
        module.SetTraining(false);
        return module;
    }
}
