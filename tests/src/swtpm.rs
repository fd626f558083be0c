//! A software TPM 2.0 (`swtpm`, Debian's package) for the tests of the TPM-held device key:
//! started by the test on two free loopback ports with its state in a fresh temporary folder,
//! and killed, with the folder removed, when dropped. Each [`Swtpm`] is a different TPM (its
//! own seeds), so a key made in one cannot be loaded in another: the stolen-entry case.
//!
//! The engine reaches it through [`Swtpm::tcti`] (`swtpm:host=127.0.0.1,port=P`; tpm2-tss's
//! swtpm TCTI uses port P for commands and P + 1 for its control channel).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long swtpm may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Tries with new ports when another process took one between the check and swtpm's bind.
const ATTEMPTS: usize = 5;

/// A running software TPM.
pub struct Swtpm {
    child: Child,
    port: u16,
    state: PathBuf,
}

impl Swtpm {
    /// Starts a fresh software TPM; panics with swtpm's own output if it does not come up.
    pub fn start() -> Self {
        let mut failures = Vec::new();
        for attempt in 0..ATTEMPTS {
            let port = free_port_pair();
            let state = std::env::temp_dir()
                .join(format!("dcr-swtpm-{}-{port}-{attempt}", std::process::id()));
            std::fs::create_dir_all(&state).expect("a temporary folder for the TPM state");
            let log = state.join("swtpm.log");
            let child = Command::new("swtpm")
                .arg("socket")
                .arg("--tpm2")
                .args(["--server", &format!("type=tcp,port={port},bindaddr=127.0.0.1")])
                .args([
                    "--ctrl",
                    &format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1),
                ])
                // No TPM2_Startup needed from the client: the TPM is ready when it listens.
                .args(["--flags", "not-need-init,startup-clear"])
                .args(["--tpmstate", &format!("dir={}", state.display())])
                .args(["--log", &format!("file={},level=1", log.display())])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .close_inherited_descriptors()
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("swtpm could not be started ({e}); scripts/test.sh installs it (apt package swtpm)")
                });
            let mut tpm = Self { child, port, state };
            match tpm.wait_until_listening() {
                Ok(()) => return tpm,
                Err(reason) => failures.push(reason),
            }
        }
        panic!("swtpm did not start:\n{}", failures.join("\n"));
    }

    /// The TCTI to hand to the engine (`TPM2TOOLS_TCTI` syntax).
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// TPM2_Clear (TPM 2.0 Part 3 §24.6), as a user does from the firmware settings or
    /// `tpm2_clear`: the owner hierarchy gets a new seed, so its storage parent, and every key
    /// made under the old one, is gone. Lockout authorization, empty on a fresh TPM.
    pub fn clear(&self) {
        use std::str::FromStr as _;
        use tss_esapi::handles::AuthHandle;
        use tss_esapi::interface_types::session_handles::AuthSession;
        let conf = tss_esapi::TctiNameConf::from_str(&self.tcti()).expect("the swtpm TCTI");
        let mut context = tss_esapi::Context::new(conf).expect("a connection to the swtpm");
        context
            .execute_with_session(Some(AuthSession::Password), |context| {
                context.clear(AuthHandle::Lockout)
            })
            .expect("TPM2_Clear with the empty lockout authorization");
    }

    /// Both ports accept connections, or swtpm exited (a port was taken): then its log.
    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let accepting = |port: u16| {
            let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
        };
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.state.join("swtpm.log")).unwrap_or_default();
                return Err(format!("swtpm exited with {status}: {log}"));
            }
            // The control channel is set up first; the command port last. A connection to the
            // control port is harmless (swtpm serves one control client at a time and this one
            // closes at once).
            if accepting(self.port + 1) && accepting(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("swtpm did not listen within {READY_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

trait CloseInherited {
    fn close_inherited_descriptors(&mut self) -> &mut Self;
}

impl CloseInherited for Command {
    /// Nothing but stdin, stdout and stderr reaches swtpm. Tests run side by side, and a TPM
    /// connection another test has open at this moment (tpm2-tss opens it without
    /// close-on-exec, see dcr-core's `tpm.rs`) would otherwise live on in this swtpm, and the
    /// software TPM it leads to, which serves one connection at a time, would wait on it forever.
    fn close_inherited_descriptors(&mut self) -> &mut Self {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: runs in the child between fork and exec, and only calls close_range(2), which
        // is async-signal-safe.
        unsafe {
            self.pre_exec(|| {
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            })
        }
    }
}

/// Two consecutive free loopback ports, P and P + 1 (both must be free at the time of the
/// check; [`Swtpm::start`] tries again if another process takes one before swtpm binds it).
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
        let port = first.local_addr().expect("its address").port();
        if port == u16::MAX {
            continue;
        }
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port + 1)).is_ok() {
            return port;
        }
    }
}
