using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using RnnGpu.Accelerators;

namespace RnnGpu.Cli;

/// <summary>Options shared by the commands, and validators that turn bad values into usage errors.</summary>
internal static class CommonOptions
{
    public static Option<string> Backend()
    {
        var option = new Option<string>("--backend")
        {
            Description = "Compute back end: auto (CUDA, then OpenCL, then CPU), cpu, opencl, cuda, or ilgpu-cpu (the GPU kernels on ILGPU's CPU accelerator: slow, for tests and debugging)",
            DefaultValueFactory = _ => "auto",
            HelpName = "auto|cpu|opencl|cuda|ilgpu-cpu",
        };
        return option.OneOf(Backends.Names);
    }

    public static Option<int?> Device() =>
        new Option<int?>("--device")
        {
            Description = "Device index within the back end, as `rnngpu devices` lists it (default: the back end's first GPU, else its first device)",
            HelpName = "N",
        }.AtLeast(0);

    public static Option<string> Nonlinearity(string defaultText)
    {
        var option = new Option<string>("--nonlinearity")
        {
            Description = $"Recurrent activation: tanh or relu (default {defaultText})",
            HelpName = "tanh|relu",
        };
        return option.OneOf("tanh", "relu");
    }

    /// <summary>--weights: how the model's weights are stored for inference (<see cref="RnnGpu.Model.RnnModel.Quantize"/>).</summary>
    public static Option<string> Weights()
    {
        var option = new Option<string>("--weights")
        {
            Description = "Weights for inference: fp32 (as trained), int8 (symmetric per output row, activations quantized per step) or bf16 (default: as the checkpoint stores them; fp32 for a random model)",
            HelpName = "fp32|int8|bf16",
        };
        return option.OneOf("fp32", "int8", "bf16");
    }

    /// <summary>The --weights given, or null where none is (a checkpoint runs as it stores its weights).</summary>
    public static QuantizedWeights? WeightsValue(ParseResult result, Option<string> weights) =>
        result.GetValue(weights) is { } w ? QuantizedWeightsNames.Parse(w) : null;

    public static Option<string> Cell()
    {
        var option = new Option<string>("--cell")
        {
            Description = "Recurrent cell: rnn (Elman, nn.RNN), lstm (nn.LSTM) or gru (nn.GRU) (default rnn)",
            HelpName = "rnn|lstm|gru",
        };
        return option.OneOf("rnn", "lstm", "gru");
    }

    public static Option<int?> ProjSize() =>
        new Option<int?>("--proj-size")
        {
            Description = "An LSTM's projection of h to P < hidden values (nn.LSTM's proj_size; default none)",
            HelpName = "P",
        }.AtLeast(1);

    /// <summary>A string option whose value, when given, must be one of <paramref name="values"/> (also offered as completions).</summary>
    public static Option<T> OneOf<T>(this Option<T> option, params string[] values)
    {
        option.CompletionSources.Add(values);
        option.Validators.Add(result =>
        {
            if (result.Implicit || result.Errors.Any()) return;
            if (TryGet<T>(result, out var value) && value is string v && !values.Contains(v, StringComparer.Ordinal))
                result.AddError($"{option.Name} must be one of {string.Join(", ", values)}; got '{v}'");
        });
        return option;
    }

    /// <summary>An integer option that must be at least <paramref name="min"/> when given.</summary>
    public static Option<int?> AtLeast(this Option<int?> option, int min) => Check(option, v => v >= min, $"at least {min}");

    public static Option<int> AtLeast(this Option<int> option, int min) => Check(option, v => v >= min, $"at least {min}");

    /// <summary>An integer option that must lie in [min, max] when given.</summary>
    public static Option<int?> Between(this Option<int?> option, int min, int max) => Check(option, v => v >= min && v <= max, $"{min} to {max}");

    /// <summary>A number option that must be a finite number above zero when given.</summary>
    public static Option<float?> Positive(this Option<float?> option) =>
        Check(option, v => v > 0 && float.IsFinite(v), "a positive number");

    public static Option<float> Positive(this Option<float> option) =>
        Check(option, v => v > 0 && float.IsFinite(v), "a positive number");

    /// <summary>A number option that must be a finite number, zero or above, when given.</summary>
    public static Option<float?> NonNegative(this Option<float?> option) =>
        Check(option, v => v >= 0 && float.IsFinite(v), "zero or a positive number");

    /// <summary>A number option that must lie in [min, maxExclusive) when given.</summary>
    public static Option<float?> InRange(this Option<float?> option, float min, float maxExclusive) =>
        Check(option, v => v >= min && v < maxExclusive, $"in [{Show(min)}, {Show(maxExclusive)})");

    private static Option<T> Check<T>(Option<T> option, Func<T, bool> ok, string requirement) where T : struct
    {
        option.Validators.Add(result => Validate(result, option.Name, ok, requirement));
        return option;
    }

    private static Option<T?> Check<T>(Option<T?> option, Func<T, bool> ok, string requirement) where T : struct
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || result.Errors.Any()) return;
            if (TryGet<T?>(result, out var value) && value is { } v && !ok(v))
                result.AddError($"{option.Name} must be {requirement}, got {Show(v)}");
        });
        return option;
    }

    private static void Validate<T>(OptionResult result, string name, Func<T, bool> ok, string requirement) where T : struct
    {
        if (result.Implicit || result.Errors.Any()) return;
        if (TryGet<T>(result, out var v) && !ok(v)) result.AddError($"{name} must be {requirement}, got {Show(v)}");
    }

    /// <summary>The option's value, or false when it does not convert (the parser reports that itself).</summary>
    private static bool TryGet<T>(OptionResult result, out T? value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            return false;
        }
    }

    private static string Show(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    /// <summary>True when the option was written on the command line (not just defaulted).</summary>
    public static bool IsGiven(this ParseResult parseResult, Option option) =>
        parseResult.GetResult(option) is { Implicit: false };

    public static bool IsGiven(this CommandResult result, Option option) =>
        result.GetResult(option) is { Implicit: false };
}
