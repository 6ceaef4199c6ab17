//! The path of a client page, `/console/tenants/{tenant}/{kind}/{client}[/…]`,
//! checked once for every handler: [`At`] is an extractor whose rejection is the
//! console's failure page (an unknown tenant or client kind is "No such …").

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::respond::failure;
use super::session::Signed;
use super::view::{Layout, kind_slug, parse_kind};
use crate::domain::ids::{ClientKind, TenantId};
use crate::service::ServiceError;
use crate::service::secrets::ClientRef;
use crate::web::AppState;

/// A path's tenant, client kind and client id, checked.
pub struct At {
    pub tenant: TenantId,
    pub kind: ClientKind,
    pub client: String,
}

/// The segments of a client page's path (further segments, such as a secret's
/// id, are read by the handler).
#[derive(Deserialize)]
struct ClientPath {
    tenant: String,
    kind: String,
    client: String,
}

impl At {
    pub fn parse(tenant: &str, kind: &str, client: &str) -> Result<Self, ServiceError> {
        let tenant = TenantId::parse(tenant).ok_or(ServiceError::TenantNotFound)?;
        let kind = parse_kind(kind).ok_or(ServiceError::ClientNotFound)?;
        Ok(Self {
            tenant,
            kind,
            client: client.to_owned(),
        })
    }

    pub fn base(&self) -> String {
        format!(
            "/console/tenants/{}/{}/{}",
            self.tenant,
            kind_slug(self.kind),
            self.client
        )
    }

    pub fn secrets_ref(&self) -> ClientRef<'_> {
        ClientRef {
            tenant: &self.tenant,
            kind: self.kind,
            client: &self.client,
        }
    }
}

/// Without a valid session the request goes to sign-in first (as [`Signed`]
/// does); a path naming no tenant or no client kind is the failure page.
impl FromRequestParts<AppState> for At {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(path) = Path::<ClientPath>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match At::parse(&path.tenant, &path.kind, &path.client) {
            Ok(at) => Ok(at),
            Err(e) => {
                let s = Signed::from_request_parts(parts, state).await?;
                Err(failure(e, Layout::new(&s.0, "Edit Client", "clients")))
            }
        }
    }
}
