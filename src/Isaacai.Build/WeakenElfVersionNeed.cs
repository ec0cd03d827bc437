using System;
using System.IO;
using System.Text;
using Isaacai.Build;
#if !ISAACAI_RUNTIME
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Sets VER_FLG_WEAK on one named version need (Elf64_Vernaux) in the .gnu.version_r section of
/// 64-bit little-endian ELF files, in place and idempotently. A weak need lets the dynamic loader
/// accept a library whose libstdc++ lacks that version, as long as no symbol actually binds to it.
/// </summary>
public class WeakenElfVersionNeed : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var outcome = Weaken(path, VersionName);
                Log.LogMessage(MessageImportance.Low, $"{path}: {VersionName} {outcome}");
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException)
            {
                Log.LogError($"Cannot weaken {VersionName} in {path}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// <returns>"weakened", "already weak" or "not needed".</returns>
    public static string Weaken(string path, string versionName)
    {
        var elf = File.ReadAllBytes(path);
        long flagsAt = ElfVersionNeeds.FlagsOffset(elf, versionName);
        if (flagsAt < 0) return "not needed";
        if (ElfVersionNeeds.IsWeak(elf, flagsAt)) return "already weak";
        elf[flagsAt] |= ElfVersionNeeds.VerFlagWeak;
        // Write beside, then swap in one rename: a failure never leaves a half-written library.
        var temporary = path + ".weakening";
        File.WriteAllBytes(temporary, elf);
        File.Replace(temporary, path, null);
        return "weakened";
    }
}
#endif

namespace Isaacai.Build
{
/// <summary>
/// Reads the version needs (Elf64_Vernaux) in the .gnu.version_r section of a 64-bit little-endian ELF file.
/// Shared by the build, which weakens one, and the runtime (Isaacai's environment report), which checks it.
/// </summary>
public static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    public const byte VerFlagWeak = 0x2;

    /// <summary>Whether <paramref name="path"/> needs <paramref name="versionName"/> weakly (true), strictly (false), or not at all (null).</summary>
    public static bool? NeedsWeakly(string path, string versionName)
    {
        var elf = File.ReadAllBytes(path);
        long flagsAt = FlagsOffset(elf, versionName);
        return flagsAt < 0 ? null : IsWeak(elf, flagsAt);
    }

    public static bool IsWeak(byte[] elf, long flagsAt) => (U16(elf, flagsAt) & VerFlagWeak) != 0;

    /// <summary>The file offset of the flags of the version need named <paramref name="versionName"/>, or -1 when there is none.</summary>
    public static long FlagsOffset(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        long sectionTable = (long)U64(elf, 0x28);
        int entrySize = U16(elf, 0x3A), count = U16(elf, 0x3C);
        for (int i = 0; i < count; i++)
        {
            long header = sectionTable + (long)i * entrySize;
            if (U32(elf, header + 4) != ShtGnuVerneed) continue;

            long offset = (long)U64(elf, header + 0x18);
            uint needCount = U32(elf, header + 0x2C);
            long stringHeader = sectionTable + (long)U32(elf, header + 0x28) * entrySize;
            long strings = (long)U64(elf, stringHeader + 0x18);

            long need = offset;
            for (uint n = 0; n < needCount; n++)
            {
                long aux = need + U32(elf, need + 8);
                for (int a = 0, auxCount = U16(elf, need + 2); a < auxCount; a++)
                {
                    if (CString(elf, strings + U32(elf, aux + 8)) == versionName) return aux + 4;
                    aux += U32(elf, aux + 12);
                }
                need += U32(elf, need + 12);
            }
        }
        return -1;
    }

    private static ushort U16(byte[] b, long at) => BitConverter.ToUInt16(b, checked((int)at));
    private static uint U32(byte[] b, long at) => BitConverter.ToUInt32(b, checked((int)at));
    private static ulong U64(byte[] b, long at) => BitConverter.ToUInt64(b, checked((int)at));

    private static string CString(byte[] b, long at)
    {
        int start = checked((int)at), end = Array.IndexOf(b, (byte)0, start);
        return Encoding.ASCII.GetString(b, start, (end < 0 ? b.Length : end) - start);
    }
}
}
