//! `latchkey tenants list|create|rename`.

use reqwest::Method;
use serde_json::json;

use super::api::Api;
use super::args::{Output, TenantsCommand};
use super::exit::Failure;
use super::table::{self, Column};

const COLUMNS: &[Column] = &[("ID", "Id"), ("NAME", "Name"), ("CREATED", "CreatedAt")];

pub async fn run(api: Api, output: Output, command: TenantsCommand) -> Result<(), Failure> {
    match command {
        TenantsCommand::List { page } => {
            let query = [
                ("skip", page.skip.to_string()),
                ("count", page.count.to_string()),
            ];
            let answer = api.get("Tenants", &query).await?;
            table::print_list(output, &answer.body, answer.total, COLUMNS);
        }
        TenantsCommand::Create { name } => {
            let request = api
                .request(Method::POST, "Tenants")
                .json(&json!({ "Name": name }));
            let answer = api.send(request).await?;
            match output {
                Output::Json => println!("{}", table::pretty(&answer.body)),
                // The id alone on stdout: `TENANT=$(latchkey tenants create …)`.
                Output::Table => {
                    eprintln!("Tenant {name:?} created.");
                    println!("{}", table::cell(answer.body.get("Id")));
                }
            }
        }
        TenantsCommand::Rename { id, name } => {
            let request = api
                .request(Method::PUT, &format!("Tenants/{}", super::segment(&id)))
                .json(&json!({ "Name": name }));
            let answer = api.send(request).await?;
            let one = serde_json::Value::Array(vec![answer.body]);
            match output {
                Output::Json => println!("{}", table::pretty(&one[0])),
                Output::Table => table::print_list(output, &one, None, COLUMNS),
            }
        }
    }
    Ok(())
}
