//! `sitegate-central`: the test central as a program, to try sync by hand: prints its URL, certificate fingerprint and a one-time site token, then serves until Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sitegate::sync::test_central::{TestCentral, TestCentralOptions};

/// A test central system for sitegate's sync protocol (v1). Not for production: no
/// authentication on its /test/... control API (loopback clients only).
#[derive(Debug, Parser)]
#[command(name = "sitegate-central", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9700")]
    listen: SocketAddr,
    /// Keep the state in this JSON file (rewritten atomically after each change).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Plain HTTP instead of HTTPS with a self-signed certificate.
    #[arg(long)]
    plain_http: bool,
    /// The site's name (a new state only).
    #[arg(long, default_value = "Test site")]
    site_name: String,
    /// Put a small demo data set into a new (empty) state.
    #[arg(long)]
    demo: bool,
}

fn say(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn fail(text: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "sitegate-central: {text}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            return fail(&format!("{first} (see sitegate-central --help)"));
        }
    };
    let filter = std::env::var("SITEGATE_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start: {e}")),
    };
    runtime.block_on(async move {
        let options = TestCentralOptions {
            tls: !args.plain_http,
            listen: args.listen,
            state_file: args.state.clone(),
            site_name: args.site_name,
        };
        let central = match TestCentral::start(options).await {
            Ok(c) => c,
            Err(e) => return fail(&e.to_string()),
        };
        if args.demo && central.seq() == 0 {
            match central.seed_demo() {
                Ok(n) => say(&format!("demo data:   {n} records")),
                Err(e) => return fail(&format!("cannot seed the demo data: {e}")),
            }
        }
        say(&format!("url:         {}", central.url()));
        if let Some(fp) = central.fingerprint() {
            say(&format!("fingerprint: {fp}"));
        }
        say(&format!("site token:  {}", central.site_token()));
        say(&format!("site:        {}", central.site_id()));
        if let Some(path) = &args.state {
            say(&format!("state:       {}", path.display()));
        }
        say(&format!(
            "control:     curl -s{} {}/test/snapshot",
            if central.fingerprint().is_some() { "k" } else { "" },
            central.url()
        ));
        if let Err(e) = tokio::signal::ctrl_c().await {
            return fail(&format!("cannot wait for Ctrl-C: {e}"));
        }
        central.stop().await;
        ExitCode::SUCCESS
    })
}
