//! What TLS costs a connection to the simulated master on loopback: one small `GET /version`
//! on a fresh connection over plain HTTP, the same over HTTPS (TCP connect, TLS handshake,
//! request), and over an HTTPS connection kept alive (the request alone, once connected).
//!
//! The difference between the first two is the handshake: rustls with ring on both sides,
//! TLS 1.3, an ECDSA P-256 certificate (rcgen's default) signed by a test CA, one client and
//! one server on the same machine, so both sides' CPU cost lands in the time.
//!
//! Run: `cargo bench --all-features --bench tls_handshake -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::master::{MasterConfig, MasterHandle, SimMaster};
use offerpack::tls::ServerTls;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::runtime::Runtime;

/// A CA and a certificate for 127.0.0.1 it signed: (CA PEM, certificate PEM, key PEM).
fn certificates() -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "offerpack bench CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_pem = ca.self_signed(&ca_key).expect("CA certificate").pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
    let cert = leaf.signed_by(&key, &issuer).expect("certificate").pem();
    (ca_pem, cert, key.serialize_pem())
}

async fn master(tls: Option<ServerTls>) -> MasterHandle {
    SimMaster::start(MasterConfig { tls, ..MasterConfig::default() }).await.expect("the master starts")
}

/// A client trusting only `ca`; `fresh` makes it open a new connection for every request.
fn client(ca: &str, fresh: bool) -> reqwest::Client {
    offerpack::tls::install_default_provider();
    let mut builder = reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("the CA parses")]);
    if fresh {
        builder = builder.pool_max_idle_per_host(0);
    }
    builder.build().expect("a client")
}

/// One `GET /version`, its body read to the end.
async fn get(client: &reqwest::Client, url: &str) -> usize {
    let response = client.get(url).send().await.expect("an answer");
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.expect("the body").len()
}

fn bench_handshake(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a runtime");
    let (ca, cert, key) = certificates();
    let tls = ServerTls::from_pem(cert.as_bytes(), key.as_bytes()).expect("server TLS");
    let (plain, secure) = runtime.block_on(async { (master(None).await, master(Some(tls)).await) });
    let mut group = c.benchmark_group("tls_handshake");
    let cases = [
        ("http_fresh_connection", plain.url(), client(&ca, true)),
        ("https_fresh_connection", secure.url(), client(&ca, true)),
        ("https_kept_alive", secure.url(), client(&ca, false)),
    ];
    for (name, base, client) in &cases {
        let url = format!("{base}/version");
        assert!(runtime.block_on(get(client, &url)) > 0, "{name}: an empty body");
        group.bench_function(BenchmarkId::new("get_version", name), |b| {
            b.iter(|| runtime.block_on(get(client, &url)));
        });
    }
    group.finish();
    runtime.block_on(async {
        plain.shutdown().await;
        secure.shutdown().await;
    });
}

criterion_group!(benches, bench_handshake);
criterion_main!(benches);
