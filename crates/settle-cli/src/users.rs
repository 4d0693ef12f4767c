//! Staff users on the command line: `settle user create`, and the first admin that `serve`
//! makes on a store without users, from `SETTLE_ADMIN_EMAIL` and `SETTLE_ADMIN_PASSWORD`.

use std::io::BufRead as _;

use anyhow::Context;
use settle_core::ids::TenantId;
use settle_engine::{Engine, MIN_PASSWORD_CHARS, Role};

/// The roles `--role` takes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum RoleArg {
    /// Everything, users and settings included.
    Admin,
    /// All billing operations.
    Clerk,
    /// Reads only.
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Clerk => Role::Clerk,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

/// The tenant named by `tenant`, or the first one created.
pub(crate) fn tenant_or_first(engine: &Engine, tenant: Option<&str>) -> anyhow::Result<TenantId> {
    let tenants = engine.tenants().context("reading the tenants")?;
    match tenant {
        Some(text) => TenantId::parse(text)
            .filter(|id| tenants.contains(id))
            .with_context(|| format!("no tenant {text} in this store")),
        None => tenants.into_iter().next().context("the store has no tenant"),
    }
}

/// Reads one line from stdin as the password, without its line end.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

/// `settle user create`: makes the user and prints it, with its password when Settle
/// generated it.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
pub(crate) fn create(
    engine: &Engine,
    email: &str,
    role: RoleArg,
    tenant: Option<&str>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let tenant_id = tenant_or_first(engine, tenant)?;
    let password = if password_stdin { Some(password_from_stdin()?) } else { None };
    let created = engine
        .create_user(&tenant_id, email, role.into(), password.as_deref())
        .context("creating the user")?;
    let user = &created.user;
    println!("user: {} {} ({}) in tenant {}", user.id, user.email, user.role.name(), tenant_id);
    if let Some(password) = &created.password {
        println!("password (shown only once): {password}");
    }
    Ok(())
}

/// The first admin's sign-in as `serve` is configured: `SETTLE_ADMIN_EMAIL` and
/// `SETTLE_ADMIN_PASSWORD` (empty counts as unset).
pub(crate) struct AdminEnv {
    email: Option<String>,
    password: Option<String>,
}

/// Reads the first admin's email and password from the environment; a password shorter than
/// 12 characters is refused before anything starts.
pub(crate) fn admin_from_env() -> anyhow::Result<AdminEnv> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let password = var("SETTLE_ADMIN_PASSWORD");
    if password.as_ref().is_some_and(|p| p.chars().count() < MIN_PASSWORD_CHARS) {
        anyhow::bail!("SETTLE_ADMIN_PASSWORD must be at least {MIN_PASSWORD_CHARS} characters");
    }
    Ok(AdminEnv { email: var("SETTLE_ADMIN_EMAIL"), password })
}

/// The admin `serve` just made: its email, and its password when Settle generated it.
pub(crate) struct FirstAdmin {
    email: String,
    generated_password: Option<String>,
}

/// Makes the first admin when the store has no staff user at all.
pub(crate) fn bootstrap_admin(
    engine: &Engine,
    env: &AdminEnv,
) -> anyhow::Result<Option<FirstAdmin>> {
    let created = engine
        .bootstrap_admin(env.email.as_deref(), env.password.as_deref())
        .context("creating the first admin from SETTLE_ADMIN_EMAIL and SETTLE_ADMIN_PASSWORD")?;
    Ok(created.map(|c| FirstAdmin { email: c.user.email, generated_password: c.password }))
}

/// The line `serve` prints about the back office at `base_url`, with the first admin's sign-in
/// when it was just made (its password only when Settle generated it).
pub(crate) fn back_office_line(base_url: &str, admin: Option<&FirstAdmin>) -> String {
    match admin {
        None => format!("Back office: {base_url}/"),
        Some(FirstAdmin { email, generated_password: Some(password) }) => {
            format!("Back office: {base_url}/  sign in as {email} / {password}")
        }
        Some(FirstAdmin { email, generated_password: None }) => format!(
            "Back office: {base_url}/  sign in as {email} with the password from SETTLE_ADMIN_PASSWORD"
        ),
    }
}
