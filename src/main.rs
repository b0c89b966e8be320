//! `connections-api`: the server and the operator's command line. Parses (see `config`), then
//! calls the library: `app::build` for `serve`, the repository for the operator's commands.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use connections_api::app;
use connections_api::app::config::{self, Cli, Command, FeatureCommand, LogArgs, LogFormat, PreferenceCommand, UserCommand, WebhookCommand};
use connections_api::features::users::rules::preference_json;
use connections_api::http::tokens::Authenticator;
use connections_api::server;
use connections_api::server::spec;
use connections_api::db::seed::Seeding;

/// A failure to report in one line.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure(err.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::parse_checked() {
        Ok(cli) => cli,
        Err(err) => return fail(&err.to_string()),
    };
    init_logs(&cli.log, matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start the runtime: {err}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn init_logs(log: &LogArgs, serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = log.filter.as_deref().unwrap_or(default);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new(default)))
        .with_writer(std::io::stderr);
    match log.log_format {
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => logs.init(),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let database = &cli.database;
    match cli.command {
        Command::Serve(args) => {
            // Signal handlers first: a SIGTERM that comes while the server starts is not lost.
            let shutdown = server::shutdown_signal();
            let application = app::build(args.config(database)?).await?;
            if let Some(demo) = &application.demo {
                print!("{}", demo.banner(application.addr()));
            }
            application.run_until(shutdown).await.map_err(Failure)
        }
        Command::Openapi { json } => {
            let text = match json {
                true => serde_json::to_string_pretty(&spec::generate()?)?,
                false => spec::generate_yaml().map_err(Failure)?,
            };
            print!("{text}");
            Ok(())
        }
        Command::Docs { out } => {
            let spec: serde_json::Value = serde_yaml::from_str(server::OPENAPI_YAML)
                .map_err(|e| Failure(format!("openapi.yaml does not parse: {e}")))?;
            for page in connections_api::docs::generate(&spec) {
                let path = out.join(&page.path);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
                }
                std::fs::write(&path, page.text).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Token { user_id, ttl, jwt_secret } => {
            let secret = config::check_jwt_secret(jwt_secret, false)?.unwrap_or_default();
            println!("{}", Authenticator::new(secret.as_bytes(), config::DEFAULT_JWT_LEEWAY_SECONDS).issue(user_id, ttl));
            Ok(())
        }
        Command::Migrate => {
            app::open(database).await?;
            eprintln!("migrated {}", config::redact_url(&database.database_url));
            Ok(())
        }
        Command::Seed { users, connections, requests, follows, celebrity_followers } => {
            let repo = app::open(database).await?;
            let started = std::time::Instant::now();
            let s = repo.seed(Seeding { users, connections, requests, follows, celebrity_followers }).await?;
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "seeded {} users, {} connections, {} requests, {} follows, {} followers of user 1 in {seconds:.1} s",
                s.users, s.connections, s.requests, s.follows, s.celebrity_followers
            );
            Ok(())
        }
        Command::User(UserCommand::Create { username, real_name }) => {
            println!("{}", app::open(database).await?.create_user(&username, &real_name).await?.id);
            Ok(())
        }
        Command::User(UserCommand::Delete { id }) => match app::open(database).await?.delete_user(id).await? {
            true => Ok(()),
            false => Err(Failure(format!("no user {id} (or already deleted)"))),
        },
        Command::User(UserCommand::Role { id, role }) => {
            let role = (role != "none").then_some(role.as_str());
            match app::open(database).await?.set_role(id, role).await? {
                true => Ok(()),
                false => Err(Failure(format!("no user {id} (or deleted)"))),
            }
        }
        Command::Preference(PreferenceCommand::Set { key, value }) => {
            let repo = app::open(database).await?;
            let (section, name) = key
                .split_once('.')
                .filter(|(s, n)| !s.is_empty() && !n.is_empty())
                .ok_or_else(|| Failure(format!("{key:?}: expected SECTION.NAME, e.g. configurations.follow_enabled")))?;
            let json = preference_json(section, name, &value).map_err(Failure)?;
            repo.set_preference(section, name, &json).await?;
            Ok(())
        }
        Command::Feature(FeatureCommand::Set { name, enabled }) => {
            app::open(database).await?.set_feature(&name, enabled).await?;
            Ok(())
        }
        Command::Feature(FeatureCommand::List) => {
            for f in app::open(database).await?.features().await? {
                println!("{} = {}", f.name, f.enabled);
            }
            Ok(())
        }
        Command::Webhook(command) => webhook(database, command).await,
        Command::Preference(PreferenceCommand::List) => {
            for p in app::open(database).await?.preferences().await? {
                println!("{}.{} = {}", p.section, p.name, p.value);
            }
            Ok(())
        }
    }
}

/// `webhook add|list|remove`: the staff API's rules (the same checks of the target and the
/// event types), JSON on stdout.
async fn webhook(database: &config::DatabaseArgs, command: WebhookCommand) -> Result<(), Failure> {
    use connections_api::features::webhooks::api::{CreatedBody, EndpointBody};
    use connections_api::features::webhooks::endpoints::{WebhookError, WebhookService};
    use connections_api::features::webhooks::queries::EndpointFields;
    use poem_openapi::types::ToJSON;
    let shown = |e: WebhookError| match e {
        WebhookError::Field(field, code, message) => Failure(format!("{field}: {message} ({code})")),
        other => Failure(other.to_string()),
    };
    match command {
        WebhookCommand::Add { url, events, description, allow_private_targets } => {
            let service = WebhookService::new(app::open(database).await?, allow_private_targets);
            let events: Vec<String> = events.into_iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
            let fields = EndpointFields { target: Some(url), description: Some(description), events: Some(events), ..Default::default() };
            let (endpoint, signing_secret) = service.create(fields).await.map_err(shown)?;
            let body = CreatedBody { endpoint: endpoint.into(), signing_secret };
            println!("{}", body.to_json().unwrap_or_default());
            Ok(())
        }
        WebhookCommand::List => {
            let service = WebhookService::new(app::open(database).await?, false);
            let mut all = Vec::new();
            let mut offset = 0;
            loop {
                let page = service.list(100, offset).await.map_err(shown)?;
                let got = page.items.len() as u64;
                all.extend(page.items.into_iter().map(|e| EndpointBody::from(e).to_json().unwrap_or_default()));
                offset += got;
                if got == 0 || offset >= page.count {
                    break;
                }
            }
            println!("{}", serde_json::Value::Array(all));
            Ok(())
        }
        WebhookCommand::Remove { id } => {
            WebhookService::new(app::open(database).await?, false).delete(id).await.map_err(|e| match e {
                WebhookError::NotFound => Failure(format!("no webhook endpoint {id}")),
                other => shown(other),
            })
        }
    }
}
