//! URL-encoded forms (repeated keys and checkboxes included) and the console's
//! date format, DD/MM/YYYY.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

use crate::web::BODY_LIMIT;

/// The fields of a submitted form, in order. `Debug` shows the names only: a
/// form may carry a password or a secret value.
#[derive(Default)]
pub struct FormData(Vec<(String, String)>);

impl std::fmt::Debug for FormData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FormData")
            .field(&self.0.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .finish()
    }
}

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed value, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_owned()
    }

    /// The value as typed (not trimmed): for secret values, where spaces matter.
    pub fn raw(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every field whose name starts with `prefix`, with the prefix removed.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v.as_str())))
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, _: &S) -> Result<Self, Response> {
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        Ok(Self::parse(&bytes))
    }
}

/// `DD/MM/YYYY` of an instant, in UTC.
pub fn ddmmyyyy(at: DateTime<Utc>) -> String {
    at.format("%d/%m/%Y").to_string()
}

/// Parses `DD/MM/YYYY` (also `D/M/YYYY`).
pub fn parse_ddmmyyyy(text: &str) -> Option<NaiveDate> {
    let mut parts = text.trim().split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// The end of `day` (23:59:59) in the viewer's zone, as UTC. The page's script
/// sends that instant (`viewer_end_of_day`, computed by the browser, which knows
/// the zone); it is trusted only within the span of real zone offsets of that day.
/// Without it, the end of the day in UTC.
pub fn end_of_day(day: NaiveDate, viewer_end_of_day: Option<&str>) -> DateTime<Utc> {
    let utc_end = Utc.from_utc_datetime(
        &day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)),
    );
    viewer_end_of_day
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|at| at.with_timezone(&Utc))
        .filter(|at| (*at - utc_end).num_hours().abs() <= 14)
        .unwrap_or(utc_end)
}

/// True when `typed` is the word `revoke` (any case) or, when `name` is not
/// empty, `name` itself (exactly, around spaces aside): what every revoke
/// dialog of the console accepts.
pub fn confirms(typed: &str, name: &str) -> bool {
    let typed = typed.trim();
    typed.eq_ignore_ascii_case("revoke") || (!typed.is_empty() && typed == name.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_month_year() {
        let d = parse_ddmmyyyy("31/12/2027").unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2027, 12, 31).unwrap());
        assert_eq!(
            parse_ddmmyyyy("1/2/2027"),
            NaiveDate::from_ymd_opt(2027, 2, 1)
        );
        for bad in ["12/31/2027", "2027-12-31", "31/12/27", "", "31/12/2027/1"] {
            assert_eq!(parse_ddmmyyyy(bad), None, "{bad}");
        }
        assert_eq!(ddmmyyyy(end_of_day(d, None)), "31/12/2027");
    }

    #[test]
    fn the_end_of_a_day_follows_the_viewer_zone_within_real_offsets() {
        let d = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        assert_eq!(
            end_of_day(d, None).to_rfc3339(),
            "2027-06-30T23:59:59+00:00"
        );
        let paris = end_of_day(d, Some("2027-06-30T21:59:59.000Z"));
        assert_eq!(paris.to_rfc3339(), "2027-06-30T21:59:59+00:00");
        let absurd = end_of_day(d, Some("2030-01-01T00:00:00Z"));
        assert_eq!(absurd.to_rfc3339(), "2027-06-30T23:59:59+00:00");
    }

    #[test]
    fn forms_keep_repeated_keys_and_raw_values() {
        let f = FormData::parse(b"a=1&a=2&v=+x+&role%3At1=tenant-member&c=on");
        assert_eq!(f.all("a"), ["1", "2"]);
        assert_eq!(f.raw("v"), " x ");
        assert_eq!(f.text("v"), "x");
        assert!(f.checked("c") && !f.checked("d"));
        assert_eq!(
            f.with_prefix("role:").collect::<Vec<_>>(),
            [("t1", "tenant-member")]
        );
    }

    #[test]
    fn debug_output_names_the_fields_but_never_their_values() {
        let f = FormData::parse(b"description=d&value=a+secret+value+never+printed+1234");
        let shown = format!("{f:?}");
        assert!(
            shown.contains("value") && shown.contains("description"),
            "{shown}"
        );
        assert!(
            !shown.contains("1234") && !shown.contains("secret"),
            "{shown}"
        );
    }
}
