//! Writing the Prometheus text format (0.0.4): `# HELP` and `# TYPE` lines per
//! family, then one `name{label="value"} number` line per sample, label values
//! escaped (`\\`, `\"`, `\n`).

use std::fmt::{Display, Write};

/// An exposition being written.
#[derive(Default)]
pub struct Text {
    out: String,
    family: &'static str,
}

impl Text {
    /// Starts a family; the samples that follow belong to it.
    pub fn family(&mut self, name: &'static str, kind: &str, help: &str) {
        self.family = name;
        let _ = writeln!(self.out, "# HELP {name} {}", help.replace('\n', " "));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// A sample of the current family; `suffix` is appended to its name (`_bucket`).
    pub fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: impl Display) {
        let _ = write!(self.out, "{}{suffix}", self.family);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{name}=\"");
                escape_into(&mut self.out, value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A histogram family: cumulative buckets, `+Inf`, sum and count.
    pub fn histogram<const N: usize>(
        &mut self,
        name: &'static str,
        help: &str,
        (buckets, count, sum): ([(f64, u64); N], u64, f64),
    ) {
        self.family(name, "histogram", help);
        for (bound, n) in buckets {
            self.sample("_bucket", &[("le", &bound.to_string())], n);
        }
        self.sample("_bucket", &[("le", "+Inf")], count);
        self.sample("_sum", &[], sum);
        self.sample("_count", &[], count);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
