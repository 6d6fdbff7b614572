//! The connection to PostgreSQL, over TLS when the site says so. The setting is libpq's
//! own, in the URL: `sslrootcert=/etc/yiping/pg-ca.pem` (with `sslmode=verify-full`, or
//! none) makes the connection TLS with rustls, checked against that CA and the host's
//! name; without it the connection is plain, as on one machine.

use postgres::{Client, NoTls};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Connect to `url`; TLS when it names a root certificate.
pub(super) fn connect(url: &str) -> Result<Client, String> {
    let (conninfo, root) = split_root_cert(url);
    let Some(path) = root else {
        return Client::connect(&conninfo, NoTls).map_err(|e| e.to_string());
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(&path).map_err(|e| format!("sslrootcert {path}: {e}"))?;
    for c in certs {
        let c = c.map_err(|e| format!("sslrootcert {path}: {e}"))?;
        roots
            .add(c)
            .map_err(|e| format!("sslrootcert {path}: {e}"))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
    Client::connect(&conninfo, tls).map_err(|e| e.to_string())
}

/// `url` without its `sslrootcert`, with `sslmode=require` (the driver's word for "TLS or
/// nothing"; rustls always checks the chain and the name, as libpq's verify-full), and
/// the root certificate's path. Both forms: `key=value …` and `postgresql://…?k=v&…`.
fn split_root_cert(url: &str) -> (String, Option<String>) {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let (head, params, sep): (&str, Vec<&str>, &str) = if is_url {
        match url.split_once('?') {
            Some((h, q)) => (h, q.split('&').collect(), "&"),
            None => (url, vec![], "&"),
        }
    } else {
        ("", url.split_whitespace().collect(), " ")
    };
    let mut root = None;
    let mut kept: Vec<String> = vec![];
    for p in params {
        match p.split_once('=') {
            Some(("sslrootcert", v)) => root = Some(v.to_string()),
            Some(("sslmode", _)) => {}
            _ => kept.push(p.to_string()),
        }
    }
    if root.is_none() {
        return (url.to_string(), None);
    }
    kept.push("sslmode=require".into());
    let joined = kept.join(sep);
    let out = if is_url {
        format!("{head}?{joined}")
    } else {
        joined
    };
    (out, root)
}

/// `url` with its password hidden, for logs and errors (both forms).
pub(super) fn redact(url: &str) -> String {
    if let Some(rest) = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
    {
        let scheme = &url[..url.len() - rest.len()];
        if let Some((userinfo, host)) = rest.split_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            return format!("{scheme}{user}:…@{host}");
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|p| {
            if p.starts_with("password=") {
                "password=…"
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_certificate_is_taken_out_and_tls_required() {
        let (c, r) = split_root_cert("host=db user=y sslmode=verify-full sslrootcert=/ca.pem");
        assert_eq!(
            (c.as_str(), r.as_deref()),
            ("host=db user=y sslmode=require", Some("/ca.pem"))
        );
        let (c, r) =
            split_root_cert("postgresql://y@db/yiping?sslrootcert=/ca.pem&connect_timeout=2");
        assert_eq!(
            c,
            "postgresql://y@db/yiping?connect_timeout=2&sslmode=require"
        );
        assert_eq!(r.as_deref(), Some("/ca.pem"));
        let plain = "host=127.0.0.1 user=y";
        assert_eq!(split_root_cert(plain), (plain.to_string(), None));
    }

    #[test]
    fn passwords_never_reach_a_log() {
        assert_eq!(
            redact("host=db password=s3cret user=y"),
            "host=db password=… user=y"
        );
        assert_eq!(
            redact("postgresql://yiping:s3cret@db:5432/yiping"),
            "postgresql://yiping:…@db:5432/yiping"
        );
        assert_eq!(redact("postgres://db/yiping"), "postgres://db/yiping");
    }
}
