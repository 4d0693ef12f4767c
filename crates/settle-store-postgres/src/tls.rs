//! Connection URLs with TLS as libpq reads them: `sslmode=disable|prefer|require|verify-ca|
//! verify-full` and `sslrootcert=FILE` (PEM), over rustls, so Settle needs no OpenSSL.
//!
//! As in libpq: `prefer` (the default) tries TLS and falls back to plain text when the server
//! has no TLS; `require` insists on TLS but checks no certificate, unless `sslrootcert` is
//! given, when it checks the chain like `verify-ca`; `verify-ca` checks that the server's
//! certificate chains to `sslrootcert`; `verify-full` also checks that it names the host.
//! Without `sslrootcert`, `verify-ca` and `verify-full` read `~/.postgresql/root.crt`.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, Config};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use settle_store::{StoreError, StoreResult};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{MAX_POOL_SIZE, POOL_SIZE, unavailable};

/// Where and how to connect: the driver's configuration and the TLS it uses.
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    /// The same, for the asynchronous client.
    async_config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    /// Most connections the store's pool opens (`pool_size=`, read here with the TLS
    /// parameters because the driver refuses parameters it does not know).
    pub(crate) pool_size: u32,
}

impl Target {
    /// Reads a `postgres://` URL; `sslmode` and `sslrootcert` are taken out and read here,
    /// everything else is the driver's.
    pub(crate) fn parse(url: &str) -> StoreResult<Target> {
        let (rest, pool_size) = take_pool_size(url)?;
        let (rest, mode, root_cert) = take_tls_parameters(&rest)?;
        let mut async_config: tokio_postgres::Config = rest.parse().map_err(unavailable)?;
        let root_cert = root_cert.map(PathBuf::from);
        let verify = match (mode, root_cert) {
            (Mode::Disable | Mode::Prefer, _) | (Mode::Require, None) => Verify::Nothing,
            (Mode::Require | Mode::VerifyCa, Some(file)) => Verify::Chain(roots(&file)?),
            (Mode::VerifyFull, Some(file)) => Verify::ChainAndName(roots(&file)?),
            (Mode::VerifyCa, None) => Verify::Chain(roots(&default_root_cert()?)?),
            (Mode::VerifyFull, None) => Verify::ChainAndName(roots(&default_root_cert()?)?),
        };
        async_config.ssl_mode(match mode {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
        });
        let config = Config::from(async_config.clone());
        let tls = MakeRustlsConnect::new(client_config(verify)?);
        Ok(Target { config, async_config, tls, pool_size })
    }

    /// Opens one connection.
    pub(crate) fn connect(&self) -> Result<Client, postgres::Error> {
        self.config.connect(self.tls.clone())
    }

    /// Opens one connection with the asynchronous client on `runtime`, which then drives it
    /// whenever it runs (the pool's connections, which pipeline).
    pub(crate) fn connect_on(
        &self,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<tokio_postgres::Client, postgres::Error> {
        let (client, connection) = runtime.block_on(self.async_config.connect(self.tls.clone()))?;
        // Ends with the connection; its error, if any, reaches every later statement.
        runtime.spawn(connection);
        Ok(client)
    }
}

/// Splits `pool_size=N` off the URL's query: the URL without it and the pool's size
/// ([`POOL_SIZE`] when absent). A value that is not a whole number from 1 to
/// [`MAX_POOL_SIZE`] is refused with the reason.
fn take_pool_size(url: &str) -> StoreResult<(String, u32)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), POOL_SIZE));
    };
    let mut pool_size = POOL_SIZE;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("pool_size", value)) => {
                pool_size = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_POOL_SIZE).contains(n))
                    .ok_or_else(|| {
                    refused(format!(
                        "pool_size={value}: give the most connections Settle may open, \
                             a whole number from 1 to {MAX_POOL_SIZE}"
                    ))
                })?;
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok((rest, pool_size))
}

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Splits `sslmode` and `sslrootcert` off the URL's query: the URL without them, the mode
/// (default `prefer`) and the root certificate file, percent-decoded.
fn take_tls_parameters(url: &str) -> StoreResult<(String, Mode, Option<String>)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), Mode::Prefer, None));
    };
    let mut mode = Mode::Prefer;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "sslmode" => {
                mode = match value {
                    "disable" => Mode::Disable,
                    "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(refused(format!(
                            "sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
                        )));
                    }
                }
            }
            "sslrootcert" => root_cert = Some(percent_decode(value)?),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    Ok((rest, mode, root_cert))
}

/// Decodes `%XX` escapes (a file path in a URL); anything else is kept as written.
fn percent_decode(text: &str) -> StoreResult<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let byte = hex.ok_or_else(|| refused(format!("sslrootcert={text}: a bad % escape")))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| refused(format!("sslrootcert={text}: not UTF-8")))
}

/// libpq's default root certificate file, `~/.postgresql/root.crt`.
fn default_root_cert() -> StoreResult<PathBuf> {
    let home = std::env::var_os("HOME").ok_or_else(|| {
        refused("sslmode=verify-ca or verify-full needs sslrootcert=FILE (no HOME)".to_owned())
    })?;
    Ok(PathBuf::from(home).join(".postgresql").join("root.crt"))
}

/// The certificates of a PEM file, as the roots a server's chain must reach.
fn roots(file: &PathBuf) -> StoreResult<RootCertStore> {
    let pem =
        std::fs::read(file).map_err(|e| refused(format!("sslrootcert {}: {e}", file.display())))?;
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| refused(format!("sslrootcert {}: {e}", file.display())))?;
        roots.add(cert).map_err(|e| refused(format!("sslrootcert {}: {e}", file.display())))?;
    }
    if roots.is_empty() {
        return Err(refused(format!("sslrootcert {}: no certificate in it", file.display())));
    }
    Ok(roots)
}

/// What a TLS connection checks of the server's certificate.
enum Verify {
    /// Nothing (`prefer`, `require`): the connection is encrypted, the server not proven.
    Nothing,
    /// That it chains to these roots (`verify-ca`).
    Chain(RootCertStore),
    /// That it chains to these roots and names the host (`verify-full`).
    ChainAndName(RootCertStore),
}

fn client_config(verify: Verify) -> StoreResult<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(format!("TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Nothing => Arc::new(AnyCertificate(provider.signature_verification_algorithms)),
        Verify::Chain(roots) => Arc::new(ChainOnly(webpki(roots, &provider)?)),
        Verify::ChainAndName(roots) => webpki(roots, &provider)?,
    };
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
}

fn webpki(
    roots: RootCertStore,
    provider: &Arc<CryptoProvider>,
) -> StoreResult<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| refused(format!("TLS: {e}")))
}

/// `sslmode=require` without a root certificate: any certificate, as libpq; the handshake's
/// signatures are still checked, so the session is encrypted to whoever holds the key.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must reach the roots; the name is not checked, as libpq.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A URL this module refuses, as the store's unavailability with the reason.
fn refused(why: String) -> StoreError {
    StoreError::Unavailable(why.into())
}

#[cfg(test)]
mod tests {
    use settle_store::StoreError;

    use super::{Mode, take_pool_size, take_tls_parameters};

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_the_rest_of_the_url_is_kept() {
        let url = "postgres://u@h:5432/d?application_name=settle&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.pem";
        let (rest, mode, root) = take_tls_parameters(url).expect("parsed");
        assert_eq!(rest, "postgres://u@h:5432/d?application_name=settle");
        assert_eq!(mode, Mode::VerifyFull);
        assert_eq!(root.as_deref(), Some("/tmp/ca x.pem"));
        let (rest, mode, root) = take_tls_parameters("postgres://u@h/d").expect("parsed");
        assert_eq!((rest.as_str(), mode, root), ("postgres://u@h/d", Mode::Prefer, None));
        let (rest, mode, _) = take_tls_parameters("postgres://u@h/d?sslmode=disable").expect("ok");
        assert_eq!((rest.as_str(), mode), ("postgres://u@h/d", Mode::Disable));
        assert!(take_tls_parameters("postgres://u@h/d?sslmode=allow").is_err());
        assert!(take_tls_parameters("postgres://u@h/d?sslrootcert=%zz").is_err());
    }

    #[test]
    fn pool_size_is_read_off_the_url_and_a_bad_value_is_refused() {
        let (rest, size) = take_pool_size("postgres://u@h/d").expect("no query");
        assert_eq!((rest.as_str(), size), ("postgres://u@h/d", 16));
        let (rest, size) =
            take_pool_size("postgres://u@h/d?sslmode=disable&pool_size=4").expect("four");
        assert_eq!((rest.as_str(), size), ("postgres://u@h/d?sslmode=disable", 4));
        let (rest, size) = take_pool_size("postgres://u@h/d?pool_size=1024").expect("most");
        assert_eq!((rest.as_str(), size), ("postgres://u@h/d", 1024));
        for bad in ["0", "-1", "1025", "4.5", "", "lots", "99999999999"] {
            let url = format!("postgres://u@h/d?pool_size={bad}");
            let err = match take_pool_size(&url) {
                Err(StoreError::Unavailable(why)) => why.to_string(),
                other => format!("{other:?}"),
            };
            assert!(
                err.contains(&format!("pool_size={bad}: give the most connections")),
                "{bad:?} gave {err:?}"
            );
        }
    }
}
