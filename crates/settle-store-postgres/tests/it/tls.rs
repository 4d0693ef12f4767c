//! PostgreSQL over TLS, against a throwaway cluster this test starts with `ssl=on` and a
//! certificate it makes (the shared server is left alone). Its `pg_hba.conf` accepts TLS
//! connections only, so a store that opens has spoken TLS.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use settle_store::Store;
use settle_store_postgres::PostgresStore;

/// Where Debian puts the server's programs.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A certificate authority: its certificate in PEM and what signs with it.
struct Authority {
    pem: String,
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn authority(name: &str) -> Authority {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).expect("self-signed");
    Authority { pem: cert.pem(), cert, key }
}

/// A cluster in a temporary folder, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    data: PathBuf,
    port: u16,
}

/// Runs a server program, as the `postgres` user when this process is root (initdb refuses
/// root).
fn pg(program: &str, args: &[&str]) -> std::process::Output {
    let path = format!("{PG_BIN}/{program}");
    let root = rustix::process::getuid().is_root();
    let mut command = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &path]);
        c
    } else {
        Command::new(&path)
    };
    command.args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"))
}

impl Cluster {
    /// Starts a cluster with `ssl=on`, serving `server_cert` and `server_key`, on a free port.
    fn start(server_cert: &str, server_key: &str) -> Cluster {
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        if rustix::process::getuid().is_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(chown.success());
        }
        let data_text = data.to_str().expect("a UTF-8 path");
        let init = pg("initdb", &["-D", data_text, "-A", "trust", "-U", "postgres", "--no-sync"]);
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        write_owned(&data.join("server.crt"), server_cert);
        write_owned(&data.join("server.key"), server_key);
        write_owned(
            &data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        );
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("address").port()
        };
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data_text} -c ssl=on -c fsync=off"
        );
        let log = dir.path().join("log");
        let log_text = log.to_str().expect("a UTF-8 path");
        let start = pg("pg_ctl", &["-D", data_text, "-l", log_text, "-w", "-o", &options, "start"]);
        let log_tail = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(start.status.success(), "pg_ctl start: {log_tail}");
        Cluster { dir, data, port }
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(data) = self.data.to_str() {
            let _ = pg("pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
        }
        let _ = &self.dir;
    }
}

/// Writes a file the server reads: its key must be private to the server's user.
fn write_owned(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    if rustix::process::getuid().is_root() {
        let chown = Command::new("chown").arg("postgres:postgres").arg(path).status();
        assert!(chown.expect("chown").success());
    }
}

/// The error's text with every cause.
fn refusal(url: &str) -> String {
    let Err(err) = PostgresStore::open(url) else { panic!("{url} must be refused") };
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn opens(url: &str) {
    let store = PostgresStore::open(url).unwrap_or_else(|e| panic!("{url}: {e:?}"));
    store.check_ready().expect("ready");
}

#[test]
fn sslmodes_connect_and_refuse_as_libpq_documents() {
    if !Path::new(PG_BIN).join("initdb").exists() {
        assert!(std::env::var("CI").is_err(), "CI runs this test: install PostgreSQL 15");
        println!("not run: no {PG_BIN}/initdb");
        return;
    }
    let ours = authority("Settle test CA");
    let other = authority("Someone else's CA");
    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ours.cert, &ours.key)
        .expect("signed");
    let cluster = Cluster::start(&server.pem(), &server_key.serialize_pem());
    let certs = tempfile::tempdir().expect("dir");
    let ours_file = certs.path().join("ours.pem");
    let other_file = certs.path().join("other.pem");
    std::fs::write(&ours_file, &ours.pem).expect("write");
    std::fs::write(&other_file, &other.pem).expect("write");
    let ours_root = format!("sslrootcert={}", ours_file.display());
    let other_root = format!("sslrootcert={}", other_file.display());

    // The server takes TLS only: these open, so they spoke TLS.
    opens(&cluster.url("127.0.0.1", "sslmode=require"));
    opens(&cluster.url("127.0.0.1", "sslmode=prefer"));
    opens(&cluster.url("localhost", &format!("sslmode=verify-full&{ours_root}")));
    // verify-ca checks the chain, not the name (the certificate names localhost only).
    opens(&cluster.url("127.0.0.1", &format!("sslmode=verify-ca&{ours_root}")));

    // disable speaks plain text, which this server's pg_hba.conf rejects.
    let plain = refusal(&cluster.url("127.0.0.1", "sslmode=disable"));
    assert!(plain.contains("no encryption"), "{plain}");
    // verify-full refuses a certificate from another CA, and one that does not name the host.
    let wrong_ca = refusal(&cluster.url("localhost", &format!("sslmode=verify-full&{other_root}")));
    assert!(wrong_ca.contains("invalid peer certificate: UnknownIssuer"), "{wrong_ca}");
    let wrong_name =
        refusal(&cluster.url("127.0.0.1", &format!("sslmode=verify-full&{ours_root}")));
    assert!(wrong_name.contains("invalid peer certificate"), "{wrong_name}");
    assert!(!wrong_name.contains("UnknownIssuer"), "{wrong_name}");
    // require with a root certificate checks the chain, as verify-ca.
    let required = refusal(&cluster.url("localhost", &format!("sslmode=require&{other_root}")));
    assert!(required.contains("UnknownIssuer"), "{required}");
    // A missing root certificate file and an unknown mode are refused before connecting.
    let missing =
        refusal(&cluster.url("localhost", "sslmode=verify-full&sslrootcert=/nonexistent.pem"));
    assert!(missing.contains("sslrootcert /nonexistent.pem"), "{missing}");
    let unknown = refusal(&cluster.url("localhost", "sslmode=allow"));
    assert!(unknown.contains("sslmode=allow"), "{unknown}");
}
