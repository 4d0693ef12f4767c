//! The processes a browser test runs: the `settle` binary (`serve --demo` on a temporary SQLite
//! file) and `chromedriver`, each killed and waited for when dropped, and the skip rule for
//! machines without Chromium.

use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

/// The first admin's sign-in, given to `settle serve` through the environment.
pub(crate) const ADMIN_EMAIL: &str = "admin@browser-tests.example";
pub(crate) const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// The admin API key `settle serve` creates on its empty store, to check pages against the API.
pub(crate) const API_KEY: &str = "browser-tests-admin-key-0123456789";

/// How long a process may take to start listening before the test gives up on it.
const START_LIMIT: Duration = Duration::from_secs(60);

/// The message a machine without Chromium prints instead of running the browser tests.
pub(crate) const SKIP_MESSAGE: &str = "browser tests skipped: chromedriver not found — install \
     with `apt-get install -y chromium chromium-driver` (Debian) to run them";

/// Whether the browser tests can run here. Without chromedriver or Chromium they are skipped
/// with a plain message, except in CI (`CI=true`), where a missing browser fails the test.
pub(crate) fn browser_available() -> bool {
    let driver = on_path("chromedriver").is_some();
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|name| on_path(name).is_some());
    if driver && browser {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but chromedriver or Chromium is missing (.ci/run installs chromium and \
         chromium-driver); the browser tests are never skipped in CI"
    );
    // Written once, to the process's stderr directly (past the test harness's capture), so
    // that a plain `cargo test` shows it.
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{SKIP_MESSAGE}");
    });
    false
}

/// The full path of an executable named `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// A child process in its own process group; dropping it kills the whole group (chromedriver's
/// Chromium and its helpers included) and waits for the child.
struct Group {
    child: Child,
}

impl Group {
    fn spawn(command: &mut Command) -> Group {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        let child = command.spawn().unwrap_or_else(|err| panic!("spawning {command:?}: {err}"));
        Group { child }
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `settle serve --demo` on a temporary SQLite file, with the first admin from the environment.
pub(crate) struct Settle {
    group: Group,
    /// The back office's base URL as printed, without the trailing slash.
    pub(crate) url: String,
    dir: tempfile::TempDir,
}

impl Settle {
    pub(crate) fn start() -> Settle {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = File::create(dir.path().join("serve.out")).expect("serve.out");
        let err = File::create(dir.path().join("serve.err")).expect("serve.err");
        let mut command = settle(dir.path());
        command
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .env("SETTLE_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SETTLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("SETTLE_API_KEY", API_KEY)
            .stdout(out)
            .stderr(err);
        let mut group = Group::spawn(&mut command);
        let started = Instant::now();
        let url = loop {
            let printed = std::fs::read_to_string(dir.path().join("serve.out")).unwrap_or_default();
            if let Some(url) = printed_url(&printed) {
                break url;
            }
            assert!(
                group.is_running() && started.elapsed() < START_LIMIT,
                "settle serve did not print its URL: {printed}{}",
                std::fs::read_to_string(dir.path().join("serve.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Settle { group, url, dir }
    }

    /// Everything the server printed on stdout so far.
    pub(crate) fn printed(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.out")).unwrap_or_default()
    }

    /// `settle user create EMAIL --role ROLE --password-stdin` on the server's store.
    pub(crate) fn create_user(&mut self, email: &str, role: &str, password: &str) {
        assert!(self.group.is_running(), "settle serve has stopped");
        let mut child = settle(self.dir.path())
            .args(["user", "create", email, "--role", role, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning settle user create");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(format!("{password}\n").as_bytes()).expect("password to stdin");
        drop(stdin);
        let output = child.wait_with_output().expect("settle user create");
        assert!(
            output.status.success(),
            "settle user create {email} --role {role} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `GET path` of the JSON API with the admin key: the body parsed.
    pub(crate) fn api(&self, path: &str) -> serde_json::Value {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connect to settle");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {API_KEY}\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("send request");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("read answer");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a body");
        assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {answer}");
        serde_json::from_str(body).unwrap_or_else(|err| panic!("GET {path}: {err}: {body}"))
    }

    /// `settle verify` on the server's store: its output, after asserting it succeeded.
    pub(crate) fn verify(&self) -> String {
        let output = settle(self.dir.path()).arg("verify").output().expect("settle verify");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "settle verify found differences: {printed}");
        printed
    }

    /// The HTTP status of a plain GET of `path`, without cookies.
    pub(crate) fn status_of(&self, path: &str) -> u16 {
        self.get(path, "").0
    }

    /// A GET of `path` with `Authorization: Bearer KEY`, as an API client sends it: the
    /// status and the whole answer (headers and body).
    pub(crate) fn get_with_key(&self, path: &str, key: &str) -> (u16, String) {
        self.get(path, &format!("Authorization: Bearer {key}\r\n"))
    }

    /// A plain GET of `path` with extra header lines; the status and the whole answer.
    fn get(&self, path: &str, headers: &str) -> (u16, String) {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connect to settle");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("send request");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("read answer");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {answer:?}"));
        (status, answer)
    }
}

impl Settle {
    /// A JSON request to the API with the admin key: the status and the body as JSON.
    pub(crate) fn api_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connect to settle");
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {API_KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send request");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("read answer");
        let status = answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let (_, rest) = answer.split_once("\r\n\r\n").unwrap_or_default();
        // The answer may be chunked: the JSON is between the first '{' and the last '}'.
        let json = match (rest.find('{'), rest.rfind('}')) {
            (Some(start), Some(end)) => &rest[start..=end],
            _ => "null",
        };
        (status, serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}")))
    }

    /// `GET` of the API with the admin key; panics unless 200.
    pub(crate) fn api_get(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.api_request("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `settle verify` on the server's store: whether it is clean, and what it printed.
    pub(crate) fn verify_report(&self) -> (bool, String) {
        let output = settle(self.dir.path()).arg("verify").output().expect("settle verify");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }
}

/// The `settle` binary with a clean environment and the store in `dir`.
fn settle(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    command
        .env_remove("SETTLE_LISTEN")
        .env_remove("SETTLE_API_KEY")
        .env_remove("SETTLE_ADMIN_EMAIL")
        .env_remove("SETTLE_ADMIN_PASSWORD")
        .env("SETTLE_DATABASE", format!("sqlite:{}", dir.join("settle.db").display()))
        .env("RUST_LOG", "warn")
        .current_dir(dir);
    command
}

/// The first `http://HOST:PORT` in what `settle serve` printed.
fn printed_url(printed: &str) -> Option<String> {
    let rest = printed.split("http://").nth(1)?;
    let end = rest.find(|c: char| c == '/' || c.is_whitespace())?;
    Some(format!("http://{}", &rest[..end]))
}

/// `chromedriver` on a free loopback port.
pub(crate) struct Chromedriver {
    _group: Group,
    /// The WebDriver endpoint, `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    _dir: tempfile::TempDir,
}

impl Chromedriver {
    pub(crate) fn start() -> Chromedriver {
        let port = free_port();
        let dir = tempfile::tempdir().expect("temporary folder");
        let log = File::create(dir.path().join("chromedriver.log")).expect("chromedriver.log");
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .current_dir(dir.path());
        let mut group = Group::spawn(&mut command);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                group.is_running() && started.elapsed() < START_LIMIT,
                "chromedriver did not listen on port {port}: {}",
                std::fs::read_to_string(dir.path().join("chromedriver.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Chromedriver { _group: group, url: format!("http://127.0.0.1:{port}"), _dir: dir }
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
