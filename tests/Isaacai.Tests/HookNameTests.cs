namespace Isaacai.Tests;

public class HookNameTests
{
    [Fact]
    public void The_seeds_fifteen_hook_names_exist()
    {
        Assert.Equal(["before_fit", "after_fit", "cleanup_fit", "before_epoch", "after_epoch", "cleanup_epoch", "before_batch", "predict", "get_loss",
            "before_backward", "backward", "step", "zero_grad", "after_batch", "cleanup_batch"], HookNames.Seed);
    }

    [Theory]
    [InlineData("after_batch", Hook.AfterBatch)]
    [InlineData("AfterBatch", Hook.AfterBatch)]
    [InlineData("AFTER_BATCH", Hook.AfterBatch)]
    [InlineData("zero_grad", Hook.ZeroGrad)]
    [InlineData("getloss", Hook.GetLoss)]
    public void Names_parse_in_seed_or_pascal_case_ignoring_case(string name, Hook hook) => Assert.Equal(hook, HookNames.Parse(name));

    [Fact]
    public void An_unknown_name_lists_the_valid_ones_and_the_nearest()
    {
        var error = Assert.Throws<ArgumentException>(() => HookNames.Parse("after_bach"));
        Assert.Contains("Did you mean 'after_batch'?", error.Message);
        Assert.Contains("before_fit", error.Message);
        Assert.Contains("cleanup_batch", error.Message);
    }
}
