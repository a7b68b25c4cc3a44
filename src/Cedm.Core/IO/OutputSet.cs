namespace Cedm.IO;

/// <summary>
/// The several files one command writes, made complete by a <paramref name="Marker"/> written last (clusters.json of a
/// cluster folder, the .json record beside samples). Each file is atomic (<see cref="AtomicFile"/>), but a process
/// killed between files, or a full disk, leaves a partial set; this type tells such leftovers from a finished result:
/// <list type="bullet">
/// <item>complete: the marker exists — never overwritten without --force;</item>
/// <item>left over: no marker but the <paramref name="Signature"/> file exists (written first, with a name only this
/// command uses) — an interrupted write, replaced by the next run without --force;</item>
/// <item>otherwise any existing part is someone else's file and is refused as usual.</item>
/// </list>
/// Readers check <see cref="IsLeftover"/> so a partial set is never taken as a result.
/// </summary>
public sealed record OutputSet(string Marker, string Signature, IReadOnlyList<string?> Parts)
{
    public bool IsComplete => File.Exists(Marker);

    public bool IsLeftover => !IsComplete && File.Exists(Signature);

    /// <summary>Throws <see cref="OutputExistsException"/> unless writing the set is allowed (see the type).</summary>
    public void CheckWritable(bool overwrite)
    {
        if (overwrite || IsLeftover) return;
        OutputExistsException.ThrowIfAnyExists(false, [Marker, .. Parts]);
    }
}
