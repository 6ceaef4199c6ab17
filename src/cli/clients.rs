//! `latchkey clients list|create|show|disable|enable|delete`.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::api::Api;
use super::args::{ClientArg, ClientKind, ClientsCommand, ExpiryArgs, Output};
use super::exit::Failure;
use super::table::{self, Column};
use super::{print_new_value, segment};

const COLUMNS: &[Column] = &[
    ("ID", "Id"),
    ("NAME", "Name"),
    ("ENABLED", "Enabled"),
    ("ROLES", "RoleIds"),
    ("TAGS", "Tags"),
    ("CREATED", "CreatedAt"),
];

const DETAIL: &[Column] = &[
    ("Id", "Id"),
    ("Name", "Name"),
    ("Enabled", "Enabled"),
    ("Roles", "RoleIds"),
    ("Tags", "Tags"),
    ("AccessTokenLifetime", "AccessTokenLifetime"),
    ("AllowSelfRotation", "AllowSelfRotation"),
    ("RedirectUris", "RedirectUris"),
    ("CreatedAt", "CreatedAt"),
    ("UpdatedAt", "UpdatedAt"),
];

/// `Tenants/{t}/{kind}`.
pub fn kind_path(tenant: &str, kind: ClientKind) -> String {
    format!("Tenants/{}/{}", segment(tenant), kind.segment())
}

/// `Tenants/{t}/{kind}/{client}`.
pub fn client_path(client: &ClientArg) -> String {
    format!(
        "{}/{}",
        kind_path(&client.tenant.tenant, client.kind),
        segment(&client.client)
    )
}

/// `Expires` / `Expiration` of a request body.
pub fn add_expiry(body: &mut Map<String, Value>, expiry: &ExpiryArgs) {
    if expiry.never_expires {
        body.insert("Expires".into(), json!(false));
    }
    if let Some(at) = expiry.expiration {
        body.insert("Expires".into(), json!(true));
        body.insert("Expiration".into(), json!(at.to_rfc3339()));
    }
}

pub async fn run(api: Api, output: Output, command: ClientsCommand) -> Result<(), Failure> {
    match command {
        ClientsCommand::List { tenant, kind, page } => {
            let query = [
                ("skip", page.skip.to_string()),
                ("count", page.count.to_string()),
            ];
            let answer = api.get(&kind_path(&tenant.tenant, kind), &query).await?;
            table::print_list(output, &answer.body, answer.total, COLUMNS);
        }
        ClientsCommand::Create {
            client,
            name,
            tags,
            roles,
            disabled,
            secret_description,
            expiry,
        } => {
            let mut body = Map::new();
            body.insert("Id".into(), json!(client.client));
            let name = name.unwrap_or_else(|| client.client.clone());
            body.insert("Name".into(), json!(name));
            if !tags.is_empty() {
                body.insert("Tags".into(), json!(tags));
            }
            if !roles.is_empty() {
                body.insert("RoleIds".into(), json!(roles));
            }
            if disabled {
                body.insert("Enabled".into(), json!(false));
            }
            if let Some(description) = secret_description {
                body.insert("SecretDescription".into(), json!(description));
            }
            if expiry.never_expires {
                body.insert("SecretExpires".into(), json!(false));
            }
            if let Some(at) = expiry.expiration {
                body.insert("SecretExpires".into(), json!(true));
                body.insert("SecretExpirationDate".into(), json!(at.to_rfc3339()));
            }
            let path = kind_path(&client.tenant.tenant, client.kind);
            let answer = api
                .send(api.request(Method::POST, &path).json(&Value::Object(body)))
                .await?;
            let what = format!("Client {} created with its first secret", client.client);
            print_new_value(output, &answer.body, &what)?;
        }
        ClientsCommand::Show { client } => {
            let answer = api.get(&client_path(&client), &[]).await?;
            table::print_object(output, &answer.body, DETAIL);
        }
        ClientsCommand::Disable { client } => set_enabled(&api, output, &client, false).await?,
        ClientsCommand::Enable { client } => set_enabled(&api, output, &client, true).await?,
        ClientsCommand::Delete { client } => {
            let answer = api
                .send(api.request(Method::DELETE, &client_path(&client)))
                .await?;
            match output {
                Output::Json if !answer.body.is_null() => {
                    println!("{}", table::pretty(&answer.body))
                }
                _ => eprintln!("Client {} deleted, with its secrets.", client.client),
            }
        }
    }
    Ok(())
}

async fn set_enabled(
    api: &Api,
    output: Output,
    client: &ClientArg,
    enabled: bool,
) -> Result<(), Failure> {
    let request = api
        .request(Method::PUT, &client_path(client))
        .json(&json!({ "Enabled": enabled }));
    let answer = api.send(request).await?;
    match output {
        Output::Json => println!("{}", table::pretty(&answer.body)),
        Output::Table => {
            let state = if enabled { "enabled" } else { "disabled" };
            eprintln!("Client {} {state}.", client.client);
        }
    }
    Ok(())
}
