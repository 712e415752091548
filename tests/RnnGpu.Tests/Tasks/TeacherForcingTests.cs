using RnnGpu.Tasks;

namespace RnnGpu.Tests.Tasks;

public sealed class TeacherForcingTests
{
    [Fact]
    public void Values_shift_right_one_step_after_a_zero_start()
    {
        // [2, 3, 2]: sequence 0 is 1..6, sequence 1 is 7..12.
        var target = new Tensor(Enumerable.Range(1, 12).Select(v => (float)v).ToArray(), 2, 3, 2);
        var x = TeacherForcing.ShiftRight(target, 2);
        Assert.Equal([2, 3, 2], x.Shape);
        Assert.Equal([0, 0, 1, 2, 3, 4, 0, 0, 7, 8, 9, 10], x.Data);
    }

    [Fact]
    public void Class_ids_shift_right_as_one_hot_codes_after_the_start_step()
    {
        var ids = new Tensor([2, 0, 1, 1, 2, 0], 2, 3);
        var start = new Tensor([0.5f, 0.5f, 0.5f], 3);   // the same start for every sequence
        var x = TeacherForcing.ShiftRight(ids, 3, start);
        Assert.Equal([.5f, .5f, .5f, 0, 0, 1, 1, 0, 0, .5f, .5f, .5f, 0, 1, 0, 0, 0, 1], x.Data);

        var perSequence = new Tensor([1, 0, 0, 0, 1, 0], 2, 3);   // [B, I]
        Assert.Equal([1f, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1], TeacherForcing.ShiftRight(ids, 3, perSequence).Data);
    }

    [Fact]
    public void Steps_past_a_length_are_zeros_and_padding_ids_are_never_read()
    {
        var ids = new Tensor([1, 2, -1, 0, -1, -1], 2, 3);   // -1: padding
        var x = TeacherForcing.ShiftRight(ids, 3, lengths: [3, 1]);
        Assert.Equal([0f, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], x.Data);
    }

    [Fact]
    public void Misfits_are_named()
    {
        Assert.Contains("[batch, time, 2]", Assert.Throws<ShapeException>(() => TeacherForcing.ShiftRight(Tensor.Zeros(2, 3, 4), 2)).Message);
        Assert.Contains("[2, 3]", Assert.Throws<ShapeException>(() => TeacherForcing.ShiftRight(Tensor.Zeros(2, 3), 3, Tensor.Zeros(3, 3))).Message);
        Assert.Contains("target class 5 at [0, 0]", Assert.Throws<ShapeException>(() => TeacherForcing.ShiftRight(new Tensor([5, 0], 1, 2), 3)).Message);
        Assert.Contains("3 lengths", Assert.Throws<ShapeException>(() => TeacherForcing.ShiftRight(Tensor.Zeros(2, 3), 3, lengths: [1, 2, 3])).Message);
    }
}
