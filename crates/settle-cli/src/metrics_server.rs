//! `GET /metrics` in Prometheus' text format, on its own address (`--metrics-listen`), apart
//! from the API and the back office: the metrics are the whole process's, every tenant's at
//! once, so they are not answered to any tenant's API key, and an operator can bind them to an
//! address only the scraper reaches.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::http::header;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: from a cached read to the request timeout.
const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Units per batched commit: up to a bill run's batch (2,000) and an import's (5,000).
const UNITS_BUCKETS: &[f64] =
    &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0];

/// Write transactions per SQLite group commit: up to the group limit (64).
const MEMBERS_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// The metrics listener, bound, with the recorder every crate now records into.
pub(crate) struct MetricsServer {
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
}

impl MetricsServer {
    /// Binds `listen` and installs the process's recorder; records the build's version.
    pub(crate) async fn bind(listen: &str) -> anyhow::Result<MetricsServer> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening for metrics on {listen}"))?;
        let handle = PrometheusBuilder::new()
            .set_buckets(SECONDS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_units".into()), UNITS_BUCKETS))
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_members".into()), MEMBERS_BUCKETS)
            })
            .context("configuring the metrics")?
            .install_recorder()
            .context("installing the metrics recorder")?;
        metrics::gauge!("settle_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1);
        Ok(MetricsServer { listener, handle })
    }

    /// The address it listens on.
    pub(crate) fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Answers `GET /metrics` until the process ends; each answer first samples how many of
    /// `engine`'s store connections are in use.
    pub(crate) async fn run(self, engine: settle_engine::Engine) {
        let handle = self.handle;
        let app = Router::new().route(
            "/metrics",
            get(move || {
                for (pool, in_use) in engine.store_connections_in_use() {
                    #[allow(clippy::cast_precision_loss, reason = "a count of connections")]
                    metrics::gauge!("settle_store_connections_in_use", "pool" => pool)
                        .set(in_use as f64);
                }
                let body = handle.render();
                async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body) }
            }),
        );
        if let Err(err) = axum::serve(self.listener, app).await {
            tracing::error!(error = %err, "serving metrics failed");
        }
    }
}
