//! The label sets: fixed enums ([`TokenOutcome`] with its [`RefusalReason`],
//! [`DeliveryOutcome`]) that index counter arrays, and the figures a refresh reads
//! from the database ([`Refreshed`], [`SecretCounts`]).

/// Why client authentication failed at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// No client authentication in the request (or no such tenant id).
    NoCredentials,
    UnknownClient,
    WrongSecret,
    Expired,
    Revoked,
    Superseded,
    ClientDisabled,
}

impl RefusalReason {
    pub const ALL: [Self; 7] = [
        Self::NoCredentials,
        Self::UnknownClient,
        Self::WrongSecret,
        Self::Expired,
        Self::Revoked,
        Self::Superseded,
        Self::ClientDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCredentials => "no_credentials",
            Self::UnknownClient => "unknown_client",
            Self::WrongSecret => "wrong_secret",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Superseded => "superseded",
            Self::ClientDisabled => "client_disabled",
        }
    }
}

/// How a token request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOutcome {
    Issued,
    Refused(RefusalReason),
    /// Too many failed authentications (429).
    Throttled,
    InvalidRequest,
    UnauthorizedClient,
    InvalidScope,
    /// The Argon2id queue was full (503).
    Busy,
    /// The database was unreachable (503).
    Unavailable,
    Error,
}

const OTHER_OUTCOMES: [TokenOutcome; 8] = [
    TokenOutcome::Issued,
    TokenOutcome::Throttled,
    TokenOutcome::InvalidRequest,
    TokenOutcome::UnauthorizedClient,
    TokenOutcome::InvalidScope,
    TokenOutcome::Busy,
    TokenOutcome::Unavailable,
    TokenOutcome::Error,
];
pub(super) const TOKEN_OUTCOMES: usize = OTHER_OUTCOMES.len() + RefusalReason::ALL.len();

impl TokenOutcome {
    /// Its place in the counter array.
    pub(super) fn index(self) -> usize {
        match self {
            Self::Issued => 0,
            Self::Throttled => 1,
            Self::InvalidRequest => 2,
            Self::UnauthorizedClient => 3,
            Self::InvalidScope => 4,
            Self::Busy => 5,
            Self::Unavailable => 6,
            Self::Error => 7,
            Self::Refused(reason) => OTHER_OUTCOMES.len() + reason as usize,
        }
    }

    /// The `outcome` label and, for refusals, the `reason` label.
    pub fn labels(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Issued => ("issued", None),
            Self::Refused(reason) => ("refused", Some(reason.as_str())),
            Self::Throttled => ("throttled", None),
            Self::InvalidRequest => ("invalid_request", None),
            Self::UnauthorizedClient => ("unauthorized_client", None),
            Self::InvalidScope => ("invalid_scope", None),
            Self::Busy => ("busy", None),
            Self::Unavailable => ("unavailable", None),
            Self::Error => ("error", None),
        }
    }

    pub(super) fn all() -> impl Iterator<Item = Self> {
        OTHER_OUTCOMES
            .into_iter()
            .chain(RefusalReason::ALL.into_iter().map(Self::Refused))
    }
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Failed; another attempt is scheduled.
    Retry,
    /// Failed, and the retry schedule is spent.
    GaveUp,
}

impl DeliveryOutcome {
    pub(super) const ALL: [Self; 3] = [Self::Delivered, Self::Retry, Self::GaveUp];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry => "retry",
            Self::GaveUp => "gave_up",
        }
    }
}

/// Counts of one tenant's live secrets (as the tenant summary counts them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretCounts {
    pub active: i64,
    pub expiring_7d: i64,
    pub expiring_30d: i64,
    pub expired: i64,
    pub never_used: i64,
}

impl SecretCounts {
    pub fn add(&mut self, other: &Self) {
        self.active += other.active;
        self.expiring_7d += other.expiring_7d;
        self.expiring_30d += other.expiring_30d;
        self.expired += other.expired;
        self.never_used += other.never_used;
    }

    pub(super) fn by_status(&self) -> [(&'static str, i64); 5] {
        [
            ("active", self.active),
            ("expiring_7d", self.expiring_7d),
            ("expiring_30d", self.expiring_30d),
            ("expired", self.expired),
            ("never_used", self.never_used),
        ]
    }
}

/// The gauges read from the database, as of the last refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refreshed {
    /// When this was read (Unix seconds).
    pub at: i64,
    /// Per tenant id, at most `metrics.maxTenants` of them.
    pub tenants: Vec<(String, SecretCounts)>,
    /// The tenants beyond the cap, summed: how many, and their counts.
    pub other: Option<(u64, SecretCounts)>,
    pub deliveries_pending: i64,
    /// Unix seconds of the oldest pending delivery's creation.
    pub oldest_pending_at: Option<i64>,
    /// Unix seconds of the current signing key's creation.
    pub signing_key_created_at: Option<i64>,
}
