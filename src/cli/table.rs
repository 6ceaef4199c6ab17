//! Printing answers: a readable table (one column per chosen JSON key, times
//! without fractions of a second, `-` for nothing) or the JSON itself.

use serde_json::Value;

use super::args::Output;

/// A column: its heading and the JSON key it shows.
pub type Column = (&'static str, &'static str);

/// The text of one cell.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "-".to_owned(),
        Some(Value::String(s)) => short_time(s).unwrap_or_else(|| s.replace(['\n', '\t'], " ")),
        Some(Value::Array(items)) if items.is_empty() => "-".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// `2026-12-03T21:07:00.123456Z` → `2026-12-03 21:07:00Z`; `None` for other text.
fn short_time(s: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(
        t.with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%SZ")
            .to_string(),
    )
}

/// The rows as aligned text with a heading line.
pub fn render(rows: &[Value], columns: &[Column]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|(_, key)| cell(row.get(key))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (head, _))| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([head.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |texts: Vec<&str>| {
        let mut out = String::new();
        for (i, text) in texts.iter().enumerate() {
            if i + 1 == texts.len() {
                out.push_str(text);
            } else {
                out.push_str(text);
                out.push_str(&" ".repeat(widths[i] - text.chars().count() + 2));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(columns.iter().map(|(head, _)| *head).collect());
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// One object as `Key  value` lines.
pub fn render_object(object: &Value, columns: &[Column]) -> String {
    let width = columns.iter().map(|(h, _)| h.len()).max().unwrap_or(0);
    columns
        .iter()
        .map(|(head, key)| format!("{head:<width$}  {}\n", cell(object.get(key))))
        .collect()
}

/// Prints a list: a table (and, when it is a slice, how to get the rest on stderr),
/// or the JSON array.
pub fn print_list(output: Output, body: &Value, total: Option<u64>, columns: &[Column]) {
    let rows = body.as_array().cloned().unwrap_or_default();
    match output {
        Output::Json => println!("{}", pretty(body)),
        Output::Table => {
            print!("{}", render(&rows, columns));
            if let Some(total) = total
                && total > rows.len() as u64
            {
                eprintln!(
                    "({} of {total} shown; use --skip and --count for the others)",
                    rows.len()
                );
            }
        }
    }
}

/// Prints one object: `Key  value` lines, or the JSON.
pub fn print_object(output: Output, body: &Value, columns: &[Column]) {
    match output {
        Output::Json => println!("{}", pretty(body)),
        Output::Table => print!("{}", render_object(body, columns)),
    }
}

pub fn pretty(body: &Value) -> String {
    serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_nothing_is_a_dash() {
        let rows = vec![
            serde_json::json!({"Id": "billing", "Enabled": true, "CreatedAt": "2026-12-03T21:07:00.123Z"}),
            serde_json::json!({"Id": "a", "Enabled": false, "CreatedAt": null}),
        ];
        let text = render(
            &rows,
            &[
                ("ID", "Id"),
                ("ENABLED", "Enabled"),
                ("CREATED", "CreatedAt"),
            ],
        );
        assert_eq!(
            text,
            "ID       ENABLED  CREATED\n\
             billing  true     2026-12-03 21:07:00Z\n\
             a        false    -\n"
        );
    }
}
