using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Isaacai.PowerShell.Sweeps;

/// <summary>A machine that runs trials: how many at once, where the module is, and how a trial reaches its own process there.</summary>
internal abstract class SweepHost(string name, int slots)
{
    public string Name { get; } = name;
    public int Slots { get; } = slots;
    public int Running { get; set; }

    /// <summary>Set once the host could not be reached: it gets no more trials.</summary>
    public string? LostBecause { get; set; }

    public abstract bool IsRemote { get; }
    public abstract string ModulePath { get; }

    /// <summary>The folder trials start in (null: the process's own); and where they write checkpoints and models.</summary>
    public abstract string? Location { get; }
    public abstract string WorkFolder { get; }

    /// <summary>A new process on this host with a runspace open in it, for one trial; throws <see cref="HostLostException"/> if the host cannot be reached.</summary>
    public abstract TrialProcess Start();

    /// <summary>Removes what the sweep left on the host (checkpoints of pruned trials, copied data); never throws.</summary>
    public abstract void CleanUp();
}

/// <summary>The host could not be reached, or dropped the connection: the trials it ran go elsewhere.</summary>
internal sealed class HostLostException(string host, string why, Exception? inner = null)
    : Exception($"Host {host} was lost: {why}", inner)
{
    public string Host { get; } = host;
}

/// <summary>One trial's process and the runspace open in it.</summary>
internal abstract class TrialProcess : IDisposable
{
    public abstract Runspace Runspace { get; }

    /// <summary>The process id the worker reported, once it has.</summary>
    public int? ProcessId { get; set; }

    /// <summary>Set when the process died on its own: its pipeline and runspace are then disposed aside, as after a kill.</summary>
    public bool Abandoned { get; private set; }

    public void Abandon() => Abandoned = true;

    /// <summary>Whether the process the worker reported has exited (false until it has reported).</summary>
    public bool HasExited()
    {
        if (ProcessId is not { } id) return false;
        try
        {
            using var process = Process.GetProcessById(id);
            return process.HasExited;
        }
        catch (ArgumentException) { return true; }   // no such process any more
    }

    /// <summary>Brings a file the trial wrote on its host to <paramref name="destination"/> here.</summary>
    public abstract void Fetch(string path, string destination);

    /// <summary>Ends the process now (Ctrl+C): a local one is killed with its children; a remote one goes with its session.</summary>
    public abstract void Kill();

    public abstract void Dispose();
}

/// <summary>This machine: each trial in a pwsh child process, as Start-Job runs jobs.</summary>
internal sealed class LocalHost(int slots, string modulePath, string location) : SweepHost("localhost", slots)
{
    public override bool IsRemote => false;
    public override string ModulePath => modulePath;
    public override string? Location => location;
    public override string WorkFolder { get; } = Path.Combine(Path.GetTempPath(), $"isaacai-sweep-{Guid.NewGuid():N}");

    public override TrialProcess Start()
    {
        var runspace = RunspaceFactory.CreateOutOfProcessRunspace(TypeTable.LoadDefaultTypeFiles());
        try { runspace.Open(); }
        catch
        {
            runspace.Dispose();
            throw;
        }
        return new LocalProcess(runspace);
    }

    public override void CleanUp()
    {
        try { if (Directory.Exists(WorkFolder)) Directory.Delete(WorkFolder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private sealed class LocalProcess(Runspace runspace) : TrialProcess
    {
        public override Runspace Runspace => runspace;

        public override void Fetch(string path, string destination) => File.Move(path, destination, overwrite: true);

        private void KillProcess()
        {
            if (ProcessId is not { } id) return;
            try
            {
                using var process = Process.GetProcessById(id);
                process.Kill(entireProcessTree: true);
                // Kill only sends the signal: wait until the process is gone, so a stopped sweep leaves none behind.
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (ArgumentException) { }            // already gone
            catch (InvalidOperationException) { }
        }

        private bool _killed;

        public override void Kill()
        {
            _killed = true;
            KillProcess();
        }

        public override void Dispose()
        {
            // Closing asks the child to exit; one that does not (a hung fit) is killed, so none outlives the sweep.
            // Closing a runspace whose process was killed waits for a reply that never comes: that goes on aside.
            if (_killed || Abandoned) System.Threading.Tasks.Task.Run(CloseRunspace);
            else CloseRunspace();
            KillProcess();
        }

        private void CloseRunspace()
        {
            try { runspace.Dispose(); }
            catch (Exception e) when (e is PSInvalidOperationException or InvalidRunspaceStateException or System.Management.Automation.Remoting.PSRemotingTransportException) { }
        }
    }
}

/// <summary>
/// A machine over SSH (PowerShell remoting's New-PSSession -HostName): each trial in a new session, which
/// sshd's powershell subsystem runs as its own pwsh process. Files asked for go there once, into a work
/// folder the trials start in.
/// </summary>
internal sealed class SshHost : SweepHost
{
    private readonly int? _port;
    private readonly string? _userName, _keyFilePath, _modulePath;
    private readonly System.Collections.Hashtable? _options;
    private readonly string[] _copy;
    private readonly string _folderName;
    private readonly Lazy<string> _remoteFolder;

    public SshHost(string hostName, int slots, int? port, string? userName, string? keyFilePath, System.Collections.Hashtable? options,
        string? modulePath, string[] copy, string sweepId)
        : base(hostName, slots)
    {
        (_port, _userName, _keyFilePath, _options, _modulePath, _copy) = (port, userName, keyFilePath, options, modulePath, copy);
        _folderName = $"isaacai-sweep-{sweepId}";
        _remoteFolder = new Lazy<string>(Stage, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public override bool IsRemote => true;
    public override string ModulePath => _modulePath ?? "Isaacai";
    public override string? Location => _copy.Length > 0 ? _remoteFolder.Value : null;
    public override string WorkFolder => Path.Combine(_remoteFolder.Value, "trials");

    public override TrialProcess Start()
    {
        _ = _remoteFolder.Value; // staged before the first trial starts; a host that cannot be staged is lost
        var (shell, session) = Connect();
        return new RemoteProcess(shell, session);
    }

    public override void CleanUp()
    {
        if (!_remoteFolder.IsValueCreated) return;
        try
        {
            var (shell, session) = Connect();
            using (shell)
            {
                using var remote = System.Management.Automation.PowerShell.Create();
                remote.Runspace = session.Runspace;
                remote.AddCommand("Remove-Item").AddParameter("LiteralPath", _remoteFolder.Value).AddParameter("Recurse").AddParameter("Force").Invoke();
                RemoveSession(shell, session);
            }
        }
        catch (Exception e) when (e is HostLostException or RuntimeException) { }
    }

    /// <summary>A helper runspace here (for New-PSSession and Copy-Item) and a new session on the host.</summary>
    private (System.Management.Automation.PowerShell Shell, PSSession Session) Connect()
    {
        Probe();
        var shell = System.Management.Automation.PowerShell.Create();
        try
        {
            shell.AddCommand("New-PSSession").AddParameter("HostName", Name).AddParameter("ErrorAction", ActionPreference.Stop);
            if (_port is { } port) shell.AddParameter("Port", port);
            if (_userName is not null) shell.AddParameter("UserName", _userName);
            if (_keyFilePath is not null) shell.AddParameter("KeyFilePath", _keyFilePath);
            if (_options is not null) shell.AddParameter("Options", _options);
            var session = shell.Invoke().Select(o => o.BaseObject).OfType<PSSession>().FirstOrDefault()
                ?? throw new HostLostException(Name, "New-PSSession returned no session.");
            shell.Commands.Clear();
            return (shell, session);
        }
        catch (Exception e) when (e is RuntimeException)
        {
            shell.Dispose();
            throw new HostLostException(Name, EngineErrors.WithoutNativeFrames(e.Message), e);
        }
    }

    /// <summary>
    /// Whether the host's SSH port answers, before ssh is started: when ssh fails to connect, PowerShell 7.6's SSH
    /// transport can write to the exited ssh's stdin on a thread of its own, and that unhandled broken pipe ends
    /// the whole pwsh process (seen here with a refused connection). A host that does not answer is lost here.
    /// </summary>
    private void Probe()
    {
        var address = Name.Contains('@') ? Name[(Name.LastIndexOf('@') + 1)..] : Name;
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            if (!client.ConnectAsync(address, _port ?? 22).Wait(TimeSpan.FromSeconds(15)))
                throw new HostLostException(Name, $"port {_port ?? 22} did not answer within 15 s.");
        }
        catch (AggregateException e) when (e.InnerException is System.Net.Sockets.SocketException socket)
        {
            throw new HostLostException(Name, $"port {_port ?? 22}: {socket.Message}", socket);
        }
    }

    private static void RemoveSession(System.Management.Automation.PowerShell shell, PSSession session)
    {
        shell.Commands.Clear();
        shell.AddCommand("Remove-PSSession").AddParameter("Session", session).Invoke();
    }

    /// <summary>Makes the work folder on the host and copies the asked-for files into it (Copy-Item -ToSession).</summary>
    private string Stage()
    {
        var (shell, session) = Connect();
        using (shell)
        {
            try
            {
                using var remote = System.Management.Automation.PowerShell.Create();
                remote.Runspace = session.Runspace;
                remote.AddScript("param($Name) (New-Item -ItemType Directory -Force -Path (Join-Path ([IO.Path]::GetTempPath()) $Name)).FullName").AddParameter("Name", _folderName);
                var folder = remote.Invoke().Select(o => o.BaseObject).OfType<string>().Single();
                foreach (var path in _copy)
                {
                    shell.Commands.Clear();
                    shell.AddCommand("Copy-Item").AddParameter("LiteralPath", path).AddParameter("Destination", folder)
                        .AddParameter("ToSession", session).AddParameter("Recurse").AddParameter("Force").AddParameter("ErrorAction", ActionPreference.Stop).Invoke();
                }
                RemoveSession(shell, session);
                return folder;
            }
            catch (RuntimeException e) { throw new HostLostException(Name, "copying the data there failed: " + e.Message, e); }
        }
    }

    private sealed class RemoteProcess(System.Management.Automation.PowerShell shell, PSSession session) : TrialProcess
    {
        public override Runspace Runspace => session.Runspace;

        public override void Fetch(string path, string destination)
        {
            shell.Commands.Clear();
            shell.AddCommand("Copy-Item").AddParameter("LiteralPath", path).AddParameter("Destination", destination)
                .AddParameter("FromSession", session).AddParameter("ErrorAction", ActionPreference.Stop).Invoke();
        }

        // Closing the session ends the remote pwsh, and with it the fit.
        public override void Kill() => Dispose();

        private int _disposed;

        public override void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            try { RemoveSession(shell, session); }
            catch (Exception e) when (e is RuntimeException or PSInvalidOperationException) { }
            shell.Dispose();
        }
    }
}
