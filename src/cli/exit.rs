//! What a command's failure means to a script: one exit code per kind of
//! failure (documented in `latchkey --help` and the README), and the message
//! printed on stderr. A message never carries a secret value.

use std::fmt;
use std::process::ExitCode;

/// The exit codes, as `latchkey --help` lists them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other failure (server unreachable, server error, database in use)
  2  bad input or usage (a bad flag, date or value; the API answered 400)
  3  not found (no such tenant, client, secret, user; lookup found nothing)
  4  refused (no token, a wrong token, or a role that does not allow it: 401/403)
  5  conflict or limit reached (409, or a limit such as secrets per client)";

/// How a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Other,
    BadInput,
    NotFound,
    Refused,
    Conflict,
}

impl Kind {
    pub fn code(self) -> u8 {
        match self {
            Self::Other => 1,
            Self::BadInput => 2,
            Self::NotFound => 3,
            Self::Refused => 4,
            Self::Conflict => 5,
        }
    }

    /// The kind of an API answer with this status and `Error` code.
    pub fn of_status(status: u16, error: &str) -> Self {
        match status {
            400 if error == "LimitReached" => Self::Conflict,
            400 | 413 | 422 => Self::BadInput,
            401 | 403 => Self::Refused,
            404 => Self::NotFound,
            409 => Self::Conflict,
            _ => Self::Other,
        }
    }
}

/// A failed command: its kind and what to tell the operator.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Kind::BadInput, message)
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    /// Prints the message on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("latchkey: {}", self.message);
        ExitCode::from(self.kind.code())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_distinct_codes() {
        assert_eq!(Kind::of_status(400, "InvalidInput").code(), 2);
        assert_eq!(Kind::of_status(400, "LimitReached").code(), 5);
        assert_eq!(Kind::of_status(401, "Unauthorized").code(), 4);
        assert_eq!(Kind::of_status(403, "Forbidden").code(), 4);
        assert_eq!(Kind::of_status(404, "NotFound").code(), 3);
        assert_eq!(Kind::of_status(409, "Conflict").code(), 5);
        assert_eq!(Kind::of_status(500, "InternalError").code(), 1);
        assert_eq!(Kind::of_status(503, "Unavailable").code(), 1);
    }
}
