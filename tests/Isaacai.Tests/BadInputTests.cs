using System.Buffers.Binary;
using Isaacai.Data;

namespace Isaacai.Tests;

/// <summary>Bad input gets one clear error and costs nothing first.</summary>
public class BadInputTests
{
    [Fact]
    public void An_idx_header_claiming_millions_of_images_fails_as_truncated_before_allocating_them()
    {
        var file = new MemoryStream();
        file.Write([0, 0, 0x08, 3]);
        foreach (var dim in new[] { 2_000_000, 28, 28 }) // 1.5 GB claimed, 100 bytes present
        {
            var word = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(word, dim);
            file.Write(word);
        }
        file.Write(new byte[100]);
        file.Position = 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => Idx.Read(file, "images", 3));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("images: the file is truncated: it ends after 100 of 1568000000 bytes", error.Message);
        Assert.True(allocated < 64L << 20, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void An_idx_file_larger_than_the_first_chunk_still_reads_whole()
    {
        var array = new IdxArray([3, 4096, 4096], Enumerable.Range(0, 3 * 4096 * 4096).Select(i => (byte)(i * 7)).ToArray()); // 48 MB: three chunk sizes
        var path = Path.Combine(Path.GetTempPath(), $"isaacai-{Guid.NewGuid()}.idx");
        try
        {
            Idx.WriteFile(path, array);
            var read = Idx.ReadFile(path, 3);
            Assert.Equal(array.Dims, read.Dims);
            Assert.True(array.Data.AsSpan().SequenceEqual(read.Data));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_disposed_dataset_says_so_instead_of_empty_handle_errors()
    {
        var data = TestData.Synthetic();
        data["train"].Dispose();

        Assert.Equal("DatasetDict(train: disposed, test: 6)", data.ToString());
        var error = Assert.Throws<ObjectDisposedException>(() => DataLoaders.FromDatasetDict(data, 4));
        Assert.Contains("disposed", error.Message);
        Assert.Contains("load or make the dataset again", error.Message);
    }

    [Fact]
    public void A_dataset_disposed_after_its_loaders_were_made_fails_the_fit_clearly()
    {
        var trainer = TestData.Trainer(4);
        trainer.Dls.Train.Dataset.Dispose();
        var error = Assert.Throws<ObjectDisposedException>(() => trainer.Fit(1));
        Assert.Contains("load or make the dataset again", error.Message);
    }
}
