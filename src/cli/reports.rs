//! `latchkey inventory` and `latchkey audit`: the tenant-wide lists and their
//! filters, passed to the API as its query parameters (it checks them: a bad
//! value is bad input, exit code 2).

use super::api::Api;
use super::args::{AuditArgs, InventoryArgs, Output, StatusFilter};
use super::exit::Failure;
use super::segment;
use super::table::{self, Column};

const INVENTORY: &[Column] = &[
    ("CLIENT TYPE", "ClientType"),
    ("CLIENT", "ClientId"),
    ("ID", "Id"),
    ("DESCRIPTION", "Description"),
    ("HINT", "Hint"),
    ("STATUS", "Status"),
    ("EXPIRATION", "Expiration"),
    ("LAST USED", "LastUsedAt"),
    ("REFUSED", "RefusedCount"),
];

const AUDIT: &[Column] = &[
    ("SEQ", "Sequence"),
    ("TIME", "Time"),
    ("ACTOR", "Actor"),
    ("ACTION", "Action"),
    ("OUTCOME", "Outcome"),
    ("CLIENT", "ClientId"),
    ("SECRET", "SecretId"),
    ("FROM", "SourceAddress"),
    ("COUNT", "Count"),
    ("REASON", "Reason"),
];

pub async fn inventory(api: Api, output: Output, args: InventoryArgs) -> Result<(), Failure> {
    let mut query = vec![
        ("skip", args.page.skip.to_string()),
        ("count", args.page.count.to_string()),
    ];
    if let Some(status) = args.status {
        let status = match status {
            StatusFilter::Active => "active",
            StatusFilter::Expired => "expired",
            StatusFilter::Leaked => "leaked",
        };
        query.push(("status", status.to_owned()));
    }
    if args.never_used {
        query.push(("neverUsed", "true".to_owned()));
    }
    let optional = [
        ("unusedForDays", args.unused_for_days),
        ("expiringWithinDays", args.expiring_within_days),
        ("refusedSince", args.refused_since),
        ("query", args.query),
    ];
    query.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    let path = format!("Tenants/{}/Secrets", segment(&args.tenant.tenant));
    let answer = api.get(&path, &query).await?;
    table::print_list(output, &answer.body, answer.total, INVENTORY);
    Ok(())
}

pub async fn audit(api: Api, output: Output, args: AuditArgs) -> Result<(), Failure> {
    let mut query = vec![
        ("skip", args.page.skip.to_string()),
        ("count", args.page.count.to_string()),
    ];
    let optional = [
        ("clientId", args.client),
        ("action", args.action),
        ("from", args.from),
        ("to", args.to),
    ];
    query.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    let path = format!("Tenants/{}/AuditEvents", segment(&args.tenant.tenant));
    let answer = api.get(&path, &query).await?;
    table::print_list(output, &answer.body, answer.total, AUDIT);
    Ok(())
}
