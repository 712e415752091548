using RnnGpu.Accelerators;
using RnnGpu.Model;
using RnnGpu.Tests.Support;

namespace RnnGpu.Tests.Serving;

/// <summary>
/// A warm request allocates nothing on the CPU path. The count is process-wide (the request crosses to an
/// executor thread), so no other test may run meanwhile; the collection is shared with the other
/// allocation tests.
/// </summary>
[Collection(nameof(ServingAllocationTests))]
public sealed class ServingAllocationTests
{
    [Theory]
    [InlineData(CellKind.Rnn)]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    public async Task A_warm_request_into_callers_buffers_allocates_nothing(CellKind cell)
    {
        var config = new RnnConfig(4, 16, 2, Activation.Tanh, OutputSize: 3, Cell: cell);
        using var models = new ServedModels();
        using var service = ServedModels.Serve(models.Checkpoint(config, 3), maxBatch: 1);
        var input = Numerics.Random(new Random(2), 20 * 4);
        var output = new float[20 * 3];
        var final = new float[2 * 16 * (cell == CellKind.Lstm ? 2 : 1)];   // h, then an LSTM's c
        var ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 200; i++) await service.PredictIntoAsync(input, 20, output, final, ct: ct);

        const int calls = 500;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < calls; i++) await service.PredictIntoAsync(input, 20, output, final, ct: ct);
        long perCall = (GC.GetTotalAllocatedBytes(precise: true) - before) / calls;
        Assert.True(perCall < 16, $"{perCall} bytes allocated per request");
    }
}

[CollectionDefinition(nameof(ServingAllocationTests), DisableParallelization = true)]
public sealed class ServingAllocationCollection;
