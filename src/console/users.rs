//! Console users and their roles per tenant, managed by platform administrators.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::form::FormData;
use super::respond::{ErrorPage, render, see_other};
use super::session::Signed;
use super::view::{Layout, ROLES, role_label};
use crate::domain::ids::TenantId;
use crate::service::Page;
use crate::service::accounts::{AccountError, UserRecord};
use crate::web::AppState;

pub struct UserRow {
    pub name: String,
    pub platform_admin: bool,
    /// "tenant name: Role, …"
    pub roles: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    errors: Vec<String>,
    name: String,
    platform_admin: bool,
    /// After a delete: says it is done.
    notice: String,
}

#[derive(serde::Deserialize)]
pub struct UsersQuery {
    deleted: Option<String>,
}

/// A tenant row of the user form: which role the user holds there.
pub struct TenantRole {
    pub id: String,
    pub name: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    layout: Layout,
    name: String,
    platform_admin: bool,
    tenants: Vec<TenantRole>,
    roles: [(&'static str, &'static str); 3],
    errors: Vec<String>,
    is_self: bool,
}

fn account_failure(e: AccountError, layout: Layout) -> Response {
    let (status, message) = match e {
        AccountError::Forbidden => (
            StatusCode::FORBIDDEN,
            "Only platform administrators manage console users.".to_owned(),
        ),
        AccountError::NotFound => (StatusCode::NOT_FOUND, "No such user.".to_owned()),
        e => {
            tracing::error!(error = %e, "console user management failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong; try again.".to_owned(),
            )
        }
    };
    render(status, &ErrorPage { layout, message })
}

async fn tenant_names(state: &AppState, s: &Signed) -> Vec<(TenantId, String)> {
    let page = Page {
        skip: 0,
        count: 1000,
    };
    match state.services.tenants.list(&s.0.caller(), page).await {
        Ok(p) => p.items.into_iter().map(|t| (t.id, t.name)).collect(),
        Err(_) => Vec::new(),
    }
}

fn row(u: &UserRecord, tenants: &[(TenantId, String)]) -> UserRow {
    let roles = u
        .tenant_roles
        .iter()
        .map(|(t, roles)| {
            let name = tenants
                .iter()
                .find(|(id, _)| id == t)
                .map_or_else(|| t.to_string(), |(_, n)| n.clone());
            let labels: Vec<&str> = roles.iter().map(|r| role_label(r)).collect();
            format!("{name}: {}", labels.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    UserRow {
        name: u.name.clone(),
        platform_admin: u.platform_admin,
        roles,
        created: super::view::date_utc(u.created_at),
    }
}

async fn users_page(
    state: &AppState,
    s: &Signed,
    status: StatusCode,
    errors: Vec<String>,
    name: String,
    platform_admin: bool,
    notice: &str,
) -> Response {
    let layout = Layout::new(&s.0, "Users", "users");
    match state.accounts.list_users(&s.0).await {
        Ok(users) => {
            let tenants = tenant_names(state, s).await;
            let users = users.iter().map(|u| row(u, &tenants)).collect();
            render(
                status,
                &UsersPage {
                    layout,
                    users,
                    errors,
                    name,
                    platform_admin,
                    notice: notice.to_owned(),
                },
            )
        }
        Err(e) => account_failure(e, layout),
    }
}

pub async fn list(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<UsersQuery>,
) -> Response {
    let notice = match q.deleted {
        Some(_) => "User deleted; their sessions have ended.",
        None => "",
    };
    users_page(
        &state,
        &s,
        StatusCode::OK,
        Vec::new(),
        String::new(),
        false,
        notice,
    )
    .await
}

pub async fn create(State(state): State<AppState>, s: Signed, form: FormData) -> Response {
    let name = form.text("username");
    let password = form.raw("password");
    let admin = form.checked("platform_admin");
    match state
        .accounts
        .create_user(&s.0, &name, &password, admin)
        .await
    {
        Ok(()) => see_other(&format!("/console/users/{name}")),
        Err(AccountError::Invalid(message)) => {
            users_page(
                &state,
                &s,
                StatusCode::BAD_REQUEST,
                vec![message],
                name,
                admin,
                "",
            )
            .await
        }
        Err(e) => account_failure(e, Layout::new(&s.0, "Users", "users")),
    }
}

async fn user_page(
    state: &AppState,
    s: &Signed,
    name: &str,
    status: StatusCode,
    errors: Vec<String>,
) -> Response {
    let layout = Layout::new(&s.0, format!("User {name}"), "users");
    let user = match state.accounts.get_user(&s.0, name).await {
        Ok(u) => u,
        Err(e) => return account_failure(e, layout),
    };
    let tenants = tenant_names(state, s)
        .await
        .into_iter()
        .map(|(id, tenant_name)| TenantRole {
            role: user
                .tenant_roles
                .iter()
                .find(|(t, _)| *t == id)
                .and_then(|(_, roles)| roles.first().cloned())
                .map(|r| {
                    if r == "account-administrator" {
                        "tenant-administrator".to_owned()
                    } else {
                        r
                    }
                })
                .unwrap_or_default(),
            id: id.to_string(),
            name: tenant_name,
        })
        .collect();
    render(
        status,
        &UserPage {
            layout,
            name: user.name.clone(),
            platform_admin: user.platform_admin,
            tenants,
            roles: ROLES,
            errors,
            is_self: user.name == s.0.user.name,
        },
    )
}

pub async fn edit(State(state): State<AppState>, s: Signed, Path(name): Path<String>) -> Response {
    user_page(&state, &s, &name, StatusCode::OK, Vec::new()).await
}

pub async fn save(
    State(state): State<AppState>,
    s: Signed,
    Path(name): Path<String>,
    form: FormData,
) -> Response {
    let roles: Vec<(TenantId, String)> = form
        .with_prefix("role:")
        .filter(|(_, role)| !role.is_empty())
        .filter_map(|(tenant, role)| TenantId::parse(tenant).map(|t| (t, role.to_owned())))
        .collect();
    let password = form.raw("password");
    let password = Some(password.as_str()).filter(|p| !p.is_empty());
    match state
        .accounts
        .update_user(
            &s.0,
            &name,
            password,
            form.checked("platform_admin"),
            &roles,
        )
        .await
    {
        Ok(()) => see_other("/console/users"),
        Err(AccountError::Invalid(message)) => {
            user_page(&state, &s, &name, StatusCode::BAD_REQUEST, vec![message]).await
        }
        Err(e) => account_failure(e, Layout::new(&s.0, "Users", "users")),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    s: Signed,
    Path(name): Path<String>,
) -> Response {
    match state.accounts.delete_user(&s.0, &name).await {
        Ok(()) => see_other("/console/users?deleted=1"),
        Err(AccountError::Invalid(message)) => {
            user_page(&state, &s, &name, StatusCode::BAD_REQUEST, vec![message]).await
        }
        Err(e) => account_failure(e, Layout::new(&s.0, "Users", "users")),
    }
}
