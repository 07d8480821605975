//! Scratch space that must not outlive the process: private temporary
//! directories (an exported Git ref holds plaintext Secret manifests) and the
//! child process groups working in them (kustomize). Both are registered while
//! they exist; on SIGINT or SIGTERM a dedicated thread kills the groups,
//! removes the directories and exits 130 or 143, as a shell would report.

use std::fs::Permissions;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard};

/// What a signal must clean up. Child groups are listed only while their
/// leader is not reaped, so a group id in the list is never a reused one.
struct Live {
    dirs: Vec<PathBuf>,
    groups: Vec<u32>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    dirs: Vec::new(),
    groups: Vec::new(),
});

/// The registry even after a panic elsewhere: cleanup matters more than the poison.
fn live() -> MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Blocks SIGINT and SIGTERM and handles them on a thread of their own. Call
/// it first in `main`, before any thread starts, so every thread inherits the
/// mask (children do not: the standard library resets it before `exec`).
pub fn install_signal_cleanup() {
    // SAFETY: plain libc calls on a zeroed, locally owned signal set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::Builder::new()
        .name("signal-cleanup".into())
        .spawn(move || loop {
            let mut signal = 0;
            // SAFETY: `set` is a valid signal set; `signal` is a valid out pointer.
            if unsafe { libc::sigwait(&set, &mut signal) } == 0 {
                clean_up_and_exit(signal);
            }
        })
        .expect("the signal thread starts");
}

fn clean_up_and_exit(signal: i32) -> ! {
    // The lock is held until exit, so no new directory or child appears meanwhile.
    let live = live();
    for group in &live.groups {
        // SAFETY: a negative pid signals the process group the registry owns.
        unsafe {
            libc::kill(-(*group as i32), libc::SIGKILL);
        }
    }
    for dir in &live.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(128 + signal);
}

/// A private (0700) temporary directory, removed when dropped or on a signal.
pub struct ScratchDir {
    dir: Option<tempfile::TempDir>,
}

impl ScratchDir {
    pub fn create() -> io::Result<ScratchDir> {
        let mut live = live();
        let dir = tempfile::Builder::new()
            .prefix("driftaudit-")
            .permissions(Permissions::from_mode(0o700))
            .tempdir()?;
        live.dirs.push(dir.path().to_path_buf());
        Ok(ScratchDir { dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("present until dropped").path()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let mut live = live();
        if let Some(dir) = self.dir.take() {
            live.dirs.retain(|d| d != dir.path());
            drop(dir);
        }
    }
}

/// A child started as the leader of its own process group, so it and
/// whatever it starts can be killed together.
pub struct ChildGroup {
    child: Child,
    reaped: bool,
}

impl ChildGroup {
    pub fn spawn(command: &mut Command) -> io::Result<ChildGroup> {
        command.process_group(0);
        let mut live = live();
        let child = command.spawn()?;
        live.groups.push(child.id());
        Ok(ChildGroup {
            child,
            reaped: false,
        })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// `Child::try_wait` under the registry lock: once reaped, the group
    /// leaves the registry before its id can be reused.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let mut live = live();
        let status = self.child.try_wait()?;
        if status.is_some() {
            self.reaped = true;
            let id = self.child.id();
            live.groups.retain(|g| *g != id);
        }
        Ok(status)
    }

    /// Kills the whole group and reaps the leader.
    pub fn kill(&mut self) {
        if self.reaped {
            return;
        }
        {
            let mut live = live();
            let id = self.child.id();
            // SAFETY: the leader is not reaped, so the group id is still ours.
            unsafe {
                libc::kill(-(id as i32), libc::SIGKILL);
            }
            live.groups.retain(|g| *g != id);
        }
        let _ = self.child.wait();
        self.reaped = true;
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How a command run by `run_until` ended, when it did not exit on its own.
pub enum RunFailure {
    /// The program is not installed or not on PATH.
    NotFound,
    /// It could not be started, or waiting for it failed.
    Io(io::Error),
    /// It was still running at the deadline; its group was killed.
    TimedOut,
}

/// What a command that exited printed, and how it exited.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// An output went past the cap of [`run_until_capped`] and was cut there.
    pub truncated: bool,
}

/// Runs `command` as its own process group with both output pipes drained
/// while it runs (a large answer cannot block it), and kills the group if it
/// has not exited by `end`.
pub fn run_until(command: &mut Command, end: std::time::Instant) -> Result<Finished, RunFailure> {
    run_until_capped(command, end, usize::MAX)
}

/// [`run_until`], keeping at most `cap` bytes of each output: past that the
/// pipe is closed (the command gets SIGPIPE, or meets its deadline) and
/// [`Finished::truncated`] is set.
pub fn run_until_capped(
    command: &mut Command,
    end: std::time::Instant,
    cap: usize,
) -> Result<Finished, RunFailure> {
    use std::io::Read;
    use std::process::Stdio;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut group = ChildGroup::spawn(command).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => RunFailure::NotFound,
        _ => RunFailure::Io(e),
    })?;
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let drain = |pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            pipe.take(limit).read_to_end(&mut buffer).map(|_| buffer)
        })
    };
    let stdout = drain(Box::new(group.child().stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(group.child().stderr.take().expect("piped stderr")));
    let status = loop {
        match group.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() >= end => {
                // The readers are left to end with the pipes: a process that
                // escaped the group could hold them open forever.
                group.kill();
                return Err(RunFailure::TimedOut);
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Err(RunFailure::Io(e)),
        }
    };
    let collect = |reader: std::thread::JoinHandle<io::Result<Vec<u8>>>| {
        reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("an output reader panicked")))
            .map_err(RunFailure::Io)
    };
    let mut stdout = collect(stdout)?;
    // The error text is a diagnostic only; a broken stderr pipe is not a failure.
    let mut stderr = collect(stderr).unwrap_or_default();
    let truncated = stdout.len() > cap || stderr.len() > cap;
    stdout.truncate(cap);
    stderr.truncate(cap);
    Ok(Finished {
        status,
        stdout,
        stderr,
        truncated,
    })
}
