//! The network's child processes: each started from one executable with its arguments and a
//! log file for its stderr, stopped (SIGTERM, then SIGKILL after a grace period) or killed on
//! demand, restarted with the same arguments, and all stopped when [`Children`] is dropped —
//! also when the owner panics or its future is cancelled.

use crate::LocalnetError;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a child gets to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// One child process and how to start it again.
#[derive(Debug)]
struct Proc {
    name: String,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
    /// Whether its exit was already reported by [`Children::newly_exited`].
    reported: bool,
}

/// A child that exited on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    /// The child's name (`node`, `owner`, `miner0`, …).
    pub name: String,
    /// `"<name> exited (<status>)"`.
    pub message: String,
    /// Its log file.
    pub log: PathBuf,
}

/// The child processes of a network, all started from `exe`.
#[derive(Debug)]
pub struct Children {
    exe: PathBuf,
    procs: Vec<Proc>,
}

impl Children {
    /// No children yet; they will be started from `exe`.
    pub fn new(exe: PathBuf) -> Children {
        Children {
            exe,
            procs: Vec::new(),
        }
    }

    /// Starts `exe args` as `name`, stderr to `log` (truncated), stdin and stdout closed.
    pub fn spawn(&mut self, name: &str, args: &[String], log: &Path) -> Result<(), LocalnetError> {
        let child = self.start(name, args, log, false)?;
        self.procs.push(Proc {
            name: name.to_string(),
            args: args.to_vec(),
            log: log.to_path_buf(),
            child: Some(child),
            reported: false,
        });
        Ok(())
    }

    fn start(
        &self,
        name: &str,
        args: &[String],
        log: &Path,
        append: bool,
    ) -> Result<Child, LocalnetError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(log)
            .map_err(|source| LocalnetError::Io {
                what: format!("cannot create log file {}", log.display()),
                source,
            })?;
        Command::new(&self.exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .map_err(|source| LocalnetError::Io {
                what: format!("cannot start {name} from {}", self.exe.display()),
                source,
            })
    }

    fn get(&mut self, name: &str) -> Result<&mut Proc, LocalnetError> {
        self.procs
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| LocalnetError::UnknownNeuron(name.to_string()))
    }

    /// The names of the children, in start order.
    pub fn names(&self) -> Vec<String> {
        self.procs.iter().map(|p| p.name.clone()).collect()
    }

    /// The process id of a running child.
    pub fn pid(&mut self, name: &str) -> Result<Option<u32>, LocalnetError> {
        let p = self.get(name)?;
        Ok(match &mut p.child {
            Some(c) => matches!(c.try_wait(), Ok(None)).then(|| c.id()),
            None => None,
        })
    }

    /// Whether the child is running.
    pub fn is_running(&mut self, name: &str) -> Result<bool, LocalnetError> {
        Ok(self.pid(name)?.is_some())
    }

    /// The first child that has exited, if any (`"<name> exited (<status>)"`).
    pub fn exited(&mut self) -> Option<String> {
        for p in &mut self.procs {
            if let Some(c) = &mut p.child {
                if let Ok(Some(status)) = c.try_wait() {
                    return Some(format!("{} exited ({status})", p.name));
                }
            }
        }
        None
    }

    /// Children that exited on their own since the last call (a child stopped or killed
    /// through [`stop`](Self::stop) or [`kill`](Self::kill) is not reported).
    pub fn newly_exited(&mut self) -> Vec<Exited> {
        let mut out = Vec::new();
        for p in &mut self.procs {
            if p.reported {
                continue;
            }
            if let Some(c) = &mut p.child {
                if let Ok(Some(status)) = c.try_wait() {
                    out.push(Exited {
                        name: p.name.clone(),
                        message: format!("{} exited ({status})", p.name),
                        log: p.log.clone(),
                    });
                    p.reported = true;
                }
            }
        }
        out
    }

    /// Kills the child at once (SIGKILL) and reaps it.
    pub fn kill(&mut self, name: &str) -> Result<(), LocalnetError> {
        let p = self.get(name)?;
        if let Some(mut c) = p.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        p.reported = true;
        Ok(())
    }

    /// Stops the child gracefully: SIGTERM, then SIGKILL after [`STOP_GRACE`].
    pub fn stop(&mut self, name: &str) -> Result<(), LocalnetError> {
        let p = self.get(name)?;
        if let Some(c) = p.child.take() {
            stop_all(vec![c]);
        }
        p.reported = true;
        Ok(())
    }

    /// Starts the child again with the same arguments (stopping it first if it still runs);
    /// its log is appended to.
    pub fn restart(&mut self, name: &str) -> Result<(), LocalnetError> {
        self.stop(name)?;
        let (args, log) = {
            let p = self.get(name)?;
            (p.args.clone(), p.log.clone())
        };
        let child = self.start(name, &args, &log, true)?;
        let p = self.get(name)?;
        p.child = Some(child);
        p.reported = false;
        Ok(())
    }
}

/// SIGTERM to all, then wait up to [`STOP_GRACE`] in total, then SIGKILL the rest.
fn stop_all(mut children: Vec<Child>) {
    #[cfg(unix)]
    for c in &children {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .stderr(Stdio::null())
            .status();
    }
    let deadline = Instant::now() + STOP_GRACE;
    for c in &mut children {
        loop {
            match c.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        stop_all(
            self.procs
                .iter_mut()
                .filter_map(|p| p.child.take())
                .collect(),
        );
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh() -> Children {
        Children::new(PathBuf::from("/bin/sh"))
    }

    fn args(script: &str) -> Vec<String> {
        vec!["-c".into(), script.into()]
    }

    #[test]
    fn children_are_stopped_killed_restarted_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = sh();
        c.spawn(
            "sleeper",
            &args("echo start >&2; sleep 30"),
            &dir.path().join("s.log"),
        )
        .unwrap();
        c.spawn("quitter", &args("exit 3"), &dir.path().join("q.log"))
            .unwrap();
        assert!(c.is_running("sleeper").unwrap());
        // The quitter is reported once.
        let start = Instant::now();
        let mut seen = Vec::new();
        while seen.is_empty() && start.elapsed() < Duration::from_secs(10) {
            seen = c.newly_exited();
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].name, "quitter");
        assert!(seen[0].message.contains("quitter exited"), "{:?}", seen[0]);
        assert!(c.newly_exited().is_empty());

        // Kill is not reported as an exit; restart appends to the log.
        c.kill("sleeper").unwrap();
        assert!(!c.is_running("sleeper").unwrap());
        assert!(c.newly_exited().is_empty());
        c.restart("sleeper").unwrap();
        assert!(c.is_running("sleeper").unwrap());
        let start = Instant::now();
        loop {
            let log = std::fs::read_to_string(dir.path().join("s.log")).unwrap();
            if log.matches("start").count() == 2 {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "log: {log:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        // A graceful stop ends `sleep` at once (SIGTERM).
        let t = Instant::now();
        c.stop("sleeper").unwrap();
        assert!(t.elapsed() < STOP_GRACE);
        assert!(!c.is_running("sleeper").unwrap());
        assert!(matches!(
            c.kill("nobody"),
            Err(LocalnetError::UnknownNeuron(_))
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dropping_the_children_stops_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = sh();
        c.spawn("a", &args("sleep 30"), &dir.path().join("a.log"))
            .unwrap();
        let pid = c.pid("a").unwrap().unwrap();
        drop(c);
        // The process is gone (reaped): /proc has no entry for it any more.
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
