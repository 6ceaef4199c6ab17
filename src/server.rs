//! Start-up and shutdown of `latchkey serve`: open and migrate the database,
//! build the services, bind (and the metrics listener of `metrics.listen`, with the
//! refresh of the metrics' database gauges), announce where to connect, serve until SIGTERM or
//! Ctrl-C. Shutdown stops accepting, writes `LastUsedAt` (the only state held in
//! memory) at once, lets in-flight requests finish for `server.shutdownTimeout`,
//! closes what is left ([`connections`]), writes `LastUsedAt` again and returns.

use std::sync::Arc;

use tokio::net::TcpListener;

mod connections;
mod new_files;

pub use new_files::NewFiles;

use crate::app;
use crate::config::{MasterKeySource, Settings};
use crate::domain::jws::MasterKey;
use crate::notify::EmailSender;
use crate::notify::dispatch::Dispatcher;
use crate::notify::email::Mailer;
use crate::notify::expiry::ExpiryScheduler;
use crate::notify::notice_email::NoticeMailer;
use crate::service::accounts::Accounts;
use crate::service::gauges;
use crate::service::keys::{KeyRing, load_or_create_key_file, run_refresh};
use crate::service::tokens::Tokens;
use crate::service::usage_log::UsageLog;
use crate::service::{Services, SystemClock};
use crate::storage;
use crate::web::{AppParts, AppState};

/// Runs the server until a shutdown signal.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr()?;
    let public_url = settings.public_url_for(addr);
    // What can fail without the database is tried first: a failed start then has
    // created nothing.
    let master = match &settings.master_key {
        MasterKeySource::Environment(text) => {
            Ok(MasterKey::parse(text).map_err(|e| anyhow::anyhow!("LATCHKEY_MASTER_KEY: {e}"))?)
        }
        MasterKeySource::File(path) => Err(path),
    };
    let store = storage::open_with(&settings.database_url, settings.credential_cache)
        .await
        .map_err(|e| match e.to_string() {
            // Already says which database and why.
            m if m.starts_with("cannot ") => anyhow::anyhow!(m),
            m => anyhow::anyhow!("cannot open the database: {m}"),
        })?;
    // The key file beside a SQLite database, once the database exists.
    let master = match master {
        Ok(master) => master,
        Err(key_file) => load_or_create_key_file(key_file)?,
    };
    let clock: Arc<dyn crate::service::Clock> = Arc::new(SystemClock);
    let mut services = Services::new(store.clone(), settings.limits, clock.clone());
    services.lookups = services.lookups.limited(settings.tokens);
    services.leaks.set_file_keys(settings.scanner_keys.clone());
    let master = Arc::new(master);
    let keys = KeyRing::load(
        store.clone(),
        master.clone(),
        settings.tokens.key_schedule,
        clock.clone(),
    )
    .await?;
    services.set_master_key(master.clone());
    let key_refresh = tokio::spawn(run_refresh(keys.clone(), clock.clone()));
    let tokens = Tokens::new(services.clone(), keys, &public_url, settings.tokens);
    let flusher = tokio::spawn(flush_usage(
        tokens.usage().clone(),
        clock.clone(),
        settings.tokens.last_used_interval,
    ));
    let accounts = Accounts::new(&services, settings.console.idle_timeout);
    let generated_admin_password = accounts
        .bootstrap(
            settings
                .console
                .admin_password
                .as_deref()
                .map(|p| p.as_str()),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the console administrator: {e}"))?;
    let shutdown_clock = clock.clone();
    let metrics = start_metrics(&settings, store.clone(), clock.clone()).await?;
    let mut background = start_notifications(&settings, &public_url, store.clone(), master, clock)?;
    background.extend(metrics.tasks);
    let metrics_on_main = settings.metrics.enabled && metrics.listening.is_none();
    let app = app::router(
        AppState::new(AppParts {
            accounts,
            services,
            tokens: tokens.clone(),
            bootstrap_token: settings.bootstrap_token.clone(),
            email_enabled: settings.email.is_some(),
            public_url: public_url.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
        }),
        metrics_on_main,
    );
    announce(&settings, addr, &public_url);
    match metrics.listening {
        Some(at) => println!("  Metrics:        http://{at}/metrics (no authentication)"),
        None if metrics_on_main => {
            println!("  Metrics:        http://{addr}/metrics (bootstrap token)")
        }
        None => {}
    }
    announce_console(
        &settings,
        addr,
        generated_admin_password.as_deref().map(|p| p.as_str()),
    );
    tracing::info!(listen = %addr, database = %redact_url(&settings.database_url), "serving");
    let mut connections = connections::Connections::new(settings.server);
    connections
        .accept_until(listener, app, shutdown_signal())
        .await;
    // First what only memory holds: an orchestrator may SIGKILL before the drain ends.
    flush_at_shutdown(tokens.usage(), &shutdown_clock, "before draining").await;
    let closed = connections.drain().await;
    if closed > 0 {
        tracing::warn!(
            connections = closed,
            "closed {closed} connections still open after server.shutdownTimeout"
        );
    }
    flusher.abort();
    key_refresh.abort();
    for task in background {
        task.abort();
    }
    flush_at_shutdown(tokens.usage(), &shutdown_clock, "after draining").await;
    tracing::info!("stopped");
    Ok(())
}

/// Writes noted secret uses and refusals during shutdown, waiting at most 5 s
/// for the database.
async fn flush_at_shutdown(usage: &UsageLog, clock: &Arc<dyn crate::service::Clock>, when: &str) {
    let flush = tokio::time::timeout(std::time::Duration::from_secs(5), usage.flush(clock.now()));
    match flush.await {
        Ok(Ok(n)) => tracing::info!(
            values = n.uses,
            refused = n.refused,
            "secret uses flushed {when}"
        ),
        Ok(Err(e)) => tracing::error!(error = %e, "secret uses could not be flushed {when}: {e}"),
        Err(_) => tracing::error!(
            "secret uses could not be flushed {when}: the database did not answer within 5 s"
        ),
    }
}

/// What [`start_metrics`] started.
struct MetricsTasks {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The bound address of `metrics.listen`.
    listening: Option<std::net::SocketAddr>,
}

/// Turns recording on or off and, when on, starts the refresh of the database
/// gauges and the separate `/metrics` listener of `metrics.listen`.
async fn start_metrics(
    settings: &Settings,
    store: Arc<dyn storage::Storage>,
    clock: Arc<dyn crate::service::Clock>,
) -> anyhow::Result<MetricsTasks> {
    let m = settings.metrics;
    crate::metrics::METRICS.set_enabled(m.enabled);
    let mut started = MetricsTasks {
        tasks: Vec::new(),
        listening: None,
    };
    if !m.enabled {
        return Ok(started);
    }
    started.tasks.push(tokio::spawn(gauges::refresh_every(
        store,
        clock.clone(),
        m.refresh_interval,
        m.max_tenants,
    )));
    if let Some(listen) = m.listen {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (metrics.listen): {e}"))?;
        let bound = listener.local_addr()?;
        let router = app::metrics_router(clock);
        started.tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the metrics listener stopped: {e}");
            }
        }));
        tracing::info!(listen = %bound, "serving metrics");
        started.listening = Some(bound);
    }
    Ok(started)
}

/// Starts the delivery worker and the expiry scheduler (on every node: they
/// coordinate through the database).
fn start_notifications(
    settings: &Settings,
    public_url: &str,
    store: Arc<dyn storage::Storage>,
    master: Arc<MasterKey>,
    clock: Arc<dyn crate::service::Clock>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let email = match &settings.email {
        Some(smtp) => {
            let mailer =
                Mailer::new(smtp).map_err(|e| anyhow::anyhow!("notifications.email: {e}"))?;
            Some(Arc::new(NoticeMailer {
                mailer,
                public_url: Some(public_url.to_owned()),
            }) as Arc<dyn EmailSender>)
        }
        None => None,
    };
    let dispatcher = Dispatcher::new(
        store.clone(),
        master,
        clock.clone(),
        settings.notifications.clone(),
        email,
    )
    .map_err(|e| anyhow::anyhow!("cannot build the webhook client: {e}"))?;
    let scheduler = Arc::new(ExpiryScheduler::new(
        store,
        clock,
        settings.notifications.clone(),
    ));
    Ok(vec![
        tokio::spawn(dispatcher.run()),
        tokio::spawn(scheduler.clone().run_expired()),
        tokio::spawn(scheduler.run_expiring()),
    ])
}

/// Writes noted secret uses and refusals every `interval` (at most one write
/// per secret each time).
async fn flush_usage(
    usage: UsageLog,
    clock: Arc<dyn crate::service::Clock>,
    interval: std::time::Duration,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = usage.flush(clock.now()).await {
            tracing::warn!(error = %e, "secret uses could not be flushed; retrying at the next interval: {e}");
        }
    }
}

/// Tells the operator where to connect and how to sign in (stdout, once).
fn announce(settings: &Settings, addr: std::net::SocketAddr, public_url: &str) {
    println!("Latchkey listening on http://{addr}");
    println!("  Management API: http://{addr}/api/v1/Tenants");
    println!("  OpenAPI:        http://{addr}/api/openapi.json (reference: /api/docs)");
    println!(
        "  Issuers:        {}/identity/{{tenantId}} (token endpoint: …/connect/token)",
        public_url
    );
    if settings.public_url.is_none() && addr.ip().is_unspecified() {
        println!(
            "  Public URL:     {public_url} (every interface: set --public-url to the URL clients use)"
        );
    } else {
        println!("  Public URL:     {public_url}");
    }
    println!("  Database:       {}", redact_url(&settings.database_url));
    match &settings.config_file {
        Some(path) => println!("  Config file:    {}", path.display()),
        None => println!("  Config file:    none (defaults and LATCHKEY_* environment variables)"),
    }
    match &settings.email {
        Some(smtp) => println!(
            "  Email:          on, via {}:{} (notifications.email)",
            smtp.host,
            smtp.port()
        ),
        None => println!(
            "  Email:          off (no notifications.email.host): notices go to webhooks only"
        ),
    }
    if settings.bootstrap_token.is_some() {
        println!("  Sign in:        send `Authorization: Bearer $LATCHKEY_BOOTSTRAP_TOKEN`");
    } else {
        println!(
            "  Sign in:        set LATCHKEY_BOOTSTRAP_TOKEN (16+ characters) and restart; until then the API answers 401"
        );
    }
}

/// Where the console is and how to sign in; a generated administrator password
/// is printed here, once (it is never logged).
fn announce_console(settings: &Settings, addr: std::net::SocketAddr, generated: Option<&str>) {
    println!("  Console:        http://{addr}/console");
    match generated {
        Some(password) => {
            println!(
                "  Console sign-in: user `admin`, generated password (shown only now, store it):"
            );
            println!("                  {password}");
        }
        None if settings.console.admin_password.is_some() => println!(
            "  Console sign-in: user `admin` with LATCHKEY_ADMIN_PASSWORD (on first start), or your console users"
        ),
        None => {
            println!("  Console sign-in: your console users (`admin` was created on first start)")
        }
    }
}

/// A database URL without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; no longer accepting connections");
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://latchkey.db"), "sqlite://latchkey.db");
    }
}
