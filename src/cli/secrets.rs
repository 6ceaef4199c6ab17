//! `latchkey secrets list|add|renew|end-grace|revoke|lookup`. Add and renew
//! print the new value alone on stdout; lookup reads the value from stdin (an
//! argument would show in `ps` and the shell's history).

use std::io::Read;

use reqwest::Method;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::api::Api;
use super::args::{Output, SecretArg, SecretsCommand};
use super::clients::{add_expiry, client_path};
use super::exit::{Failure, Kind};
use super::table::{self, Column};
use super::{print_new_value, segment};

const COLUMNS: &[Column] = &[
    ("ID", "Id"),
    ("DESCRIPTION", "Description"),
    ("HINT", "Hint"),
    ("STATUS", "Status"),
    ("EXPIRATION", "Expiration"),
    ("LAST USED", "LastUsedAt"),
    ("GRACE UNTIL", "GraceUntil"),
    ("REFUSED", "RefusedCount"),
];

const LOOKUP: &[Column] = &[
    ("Found", "Found"),
    ("TenantId", "TenantId"),
    ("ClientType", "ClientType"),
    ("ClientId", "ClientId"),
    ("SecretId", "Id"),
    ("Description", "Description"),
    ("Hint", "Hint"),
    ("Status", "Status"),
    ("Expiration", "Expiration"),
    ("LastUsedAt", "LastUsedAt"),
    ("ReplacedValue", "ReplacedValue"),
];

fn secret_path(secret: &SecretArg) -> String {
    format!("{}/Secrets/{}", client_path(&secret.client), secret.secret)
}

pub async fn run(api: Api, output: Output, command: SecretsCommand) -> Result<(), Failure> {
    match command {
        SecretsCommand::List { client, page } => {
            let query = [
                ("skip", page.skip.to_string()),
                ("count", page.count.to_string()),
            ];
            let path = format!("{}/Secrets", client_path(&client));
            let answer = api.get(&path, &query).await?;
            table::print_list(output, &answer.body, answer.total, COLUMNS);
        }
        SecretsCommand::Add {
            client,
            description,
            expiry,
        } => {
            let mut body = Map::new();
            if let Some(description) = description {
                body.insert("Description".into(), json!(description));
            }
            add_expiry(&mut body, &expiry);
            let path = format!("{}/Secrets", client_path(&client));
            let request = api.request(Method::POST, &path).json(&Value::Object(body));
            let answer = api.send(request).await?;
            print_new_value(output, &answer.body, &format!("Added to {}", client.client))?;
        }
        SecretsCommand::Renew {
            secret,
            grace,
            expiry,
        } => {
            let mut body = Map::new();
            if let Some(seconds) = grace {
                body.insert("GracePeriodSeconds".into(), json!(seconds));
            }
            add_expiry(&mut body, &expiry);
            let path = format!("{}/Renew", secret_path(&secret));
            let request = api.request(Method::POST, &path).json(&Value::Object(body));
            let answer = api.send(request).await?;
            let what = format!("Renewed on {}", secret.client.client);
            print_new_value(output, &answer.body, &what)?;
        }
        SecretsCommand::EndGrace { secret } => {
            let path = format!("{}/EndGrace", secret_path(&secret));
            let answer = api.send(api.request(Method::POST, &path)).await?;
            match output {
                Output::Json => println!("{}", table::pretty(&answer.body)),
                Output::Table => eprintln!(
                    "Grace ended: only the current value of secret {} works now.",
                    secret.secret
                ),
            }
        }
        SecretsCommand::Revoke { secret } => {
            api.send(api.request(Method::DELETE, &secret_path(&secret)))
                .await?;
            eprintln!(
                "Secret {} of {} revoked.",
                secret.secret, secret.client.client
            );
        }
        SecretsCommand::Lookup {
            tenant,
            client,
            kind,
        } => {
            let value = read_value()?;
            let mut body = Map::new();
            body.insert("Value".into(), json!(value.as_str()));
            if let Some(client) = client {
                body.insert("ClientType".into(), json!(kind.segment()));
                body.insert("ClientId".into(), json!(client));
            }
            let path = match &tenant {
                Some(tenant) => format!("Tenants/{}/SecretLookup", segment(tenant)),
                None => "SecretLookup".to_owned(),
            };
            let request = api.request(Method::POST, &path).json(&Value::Object(body));
            let answer = api.send(request).await?;
            table::print_object(output, &answer.body, LOOKUP);
            if answer.body.get("Found") != Some(&Value::Bool(true)) {
                return Err(Failure::new(
                    Kind::NotFound,
                    "no live secret has this value",
                ));
            }
        }
    }
    Ok(())
}

/// The value on stdin, without the line end a shell or `echo` adds.
fn read_value() -> Result<Zeroizing<String>, Failure> {
    let mut value = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut value)
        .map_err(|e| Failure::bad_input(format!("cannot read the value from stdin: {e}")))?;
    let trimmed = value.trim_end_matches(['\n', '\r']).len();
    value.truncate(trimmed);
    if value.is_empty() {
        return Err(Failure::bad_input(
            "no value on stdin: pipe it in, e.g. `latchkey secrets lookup < value.txt`",
        ));
    }
    Ok(value)
}
