//! Staff users from the command line: `settle user create`, and the first admin's sign-in that
//! `serve` prints on a store without users.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::{KEY, create_store, send, settle};

/// A `settle serve` started with `configure`, and what it printed up to its back office line.
struct Served {
    child: Child,
    lines: Vec<String>,
}

impl Served {
    fn start(db: &Path, configure: impl FnOnce(&mut Command)) -> Served {
        let mut command = settle();
        let database = format!("sqlite:{}", db.display());
        command
            .args(["serve", "--database", &database, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped());
        configure(&mut command);
        // The child is killed and waited for when `Served` is dropped.
        #[allow(clippy::zombie_processes, reason = "Served's Drop waits for the child")]
        let mut child = command.spawn().expect("spawn settle serve");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).expect("read") > 0, "exited early: {lines:?}");
            let done = line.starts_with("Back office: ");
            lines.push(line.trim_end().to_owned());
            if done {
                return Served { child, lines };
            }
        }
    }

    fn back_office(&self) -> &str {
        self.lines.last().expect("the back office line")
    }

    /// The address from the "listening" line.
    fn addr(&self) -> String {
        let listening = self.lines.iter().find(|l| l.starts_with("Settle is listening on "));
        let rest = listening.expect("a listening line").split("http://").nth(1).expect("url");
        rest.split('/').next().expect("addr").to_owned()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn user_create(db: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let database = format!("sqlite:{}", db.display());
    let mut command = settle();
    command.args(["user", "create"]).args(args).args(["--database", &database]);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn settle user create");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("user create")
}

#[test]
fn an_empty_store_prints_the_back_office_and_a_generated_admin_sign_in_once() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let served = Served::start(&db, |_| {});
    let addr = served.addr();
    let prefix = format!("Back office: http://{addr}/  sign in as admin@settle.local / ");
    let line = served.back_office().to_owned();
    let password = line.strip_prefix(&prefix).unwrap_or_else(|| panic!("{line}"));
    assert!(password.len() >= 20 && password.bytes().all(|b| b.is_ascii_alphanumeric()), "{line}");
    drop(served);

    let again = Served::start(&db, |_| {});
    assert_eq!(again.back_office(), format!("Back office: http://{}/", again.addr()));
    drop(again);
    // The admin exists: its email is taken.
    let taken = user_create(&db, &["admin@settle.local", "--role", "viewer"], None);
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("email already in use"));
}

#[test]
fn serve_demo_prints_the_sign_in_too() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let served = Served::start(&db, |c| {
        c.arg("--demo");
    });
    let printed = served.lines.join("\n");
    assert!(printed.contains("Loaded the demo data:"), "{printed}");
    let prefix =
        format!("Back office: http://{}/  sign in as admin@settle.local / ", served.addr());
    assert!(served.back_office().starts_with(&prefix), "{printed}");
}

#[test]
fn the_first_admin_and_the_public_url_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let password = "a long admin password";
    let served = Served::start(&db, |c| {
        c.env("SETTLE_ADMIN_EMAIL", " Boss@Example.com ")
            .env("SETTLE_ADMIN_PASSWORD", password)
            .env("SETTLE_API_KEY", KEY)
            .env("SETTLE_PUBLIC_URL", "https://billing.example.com/")
            .env("SETTLE_SESSION_IDLE", "30m");
    });
    assert_eq!(
        served.back_office(),
        "Back office: https://billing.example.com/  sign in as boss@example.com with the \
         password from SETTLE_ADMIN_PASSWORD"
    );
    assert!(!served.lines.join("\n").contains(password), "the password is printed");
    let addr = served.addr();
    let (status, _, body) =
        send(&addr, "POST", "/v1/customers", KEY, None, r#"{"name": "Globex"}"#).expect("post");
    assert_eq!(status, 201, "{body}");
    let customer = crate::field(&body, "id");
    let path = format!("/v1/customers/{customer}/payment-links");
    let (status, _, body) = send(&addr, "POST", &path, KEY, None, "{}").expect("post");
    assert_eq!(status, 201, "{body}");
    let token = crate::field(&body, "token");
    assert_eq!(crate::field(&body, "url"), format!("https://billing.example.com/pay/{token}"));
}

#[test]
fn a_short_admin_password_or_a_bad_session_idle_or_public_url_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let database = format!("sqlite:{}", db.display());
    let short = settle()
        .args(["serve", "--database", &database])
        .env("SETTLE_ADMIN_PASSWORD", "elevenchars")
        .output()
        .expect("run");
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert_eq!(stderr.trim_end(), "error: SETTLE_ADMIN_PASSWORD must be at least 12 characters");
    for (flag, value, why) in [
        ("--session-idle", "0m", "--session-idle \"0m\": from 1 minute to 30 days"),
        ("--session-idle", "8", "as 30m, 8h or 1d"),
        ("--public-url", "billing.example.com", "--public-url: an http:// or https:// URL"),
    ] {
        let out =
            settle().args(["serve", "--database", &database, flag, value]).output().expect("run");
        assert!(!out.status.success(), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{flag} {value}: {stderr}");
    }
    assert!(!db.exists(), "nothing was created");
}

#[test]
fn user_create_prints_a_generated_password_or_takes_one_from_stdin() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    create_store(&db);
    let made = user_create(&db, &["Ana@Example.com", "--role", "clerk"], None);
    let out = String::from_utf8_lossy(&made.stdout);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let user = lines[0].strip_prefix("user: usr_").unwrap_or_else(|| panic!("{out}"));
    assert!(user.contains(" ana@example.com (clerk) in tenant ten_"), "{out}");
    let password = lines[1].strip_prefix("password (shown only once): ").expect("a password");
    assert!(password.len() >= 20, "{out}");

    let given = user_create(
        &db,
        &["bob@example.com", "--role", "viewer", "--password-stdin"],
        Some("a long enough password\r\n"),
    );
    let out = String::from_utf8_lossy(&given.stdout);
    assert!(given.status.success(), "{}", String::from_utf8_lossy(&given.stderr));
    assert!(out.contains(" bob@example.com (viewer) in tenant ten_"), "{out}");
    assert!(!out.contains("password"), "a password read from stdin is not printed: {out}");

    for (args, stdin, why) in [
        (
            &["cy@example.com", "--role", "clerk", "--password-stdin"][..],
            Some("short\n"),
            "password: must have at least 12 characters",
        ),
        (&["ana@example.com", "--role", "admin"][..], None, "email already in use"),
        (&["not-an-email", "--role", "admin"][..], None, "email: must be an email address"),
        (
            &["cy@example.com", "--role", "admin", "--tenant", "ten_nope"][..],
            None,
            "no tenant ten_nope",
        ),
        (&["cy@example.com", "--role", "owner"][..], None, "invalid value 'owner'"),
    ] {
        let out = user_create(&db, args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
}
