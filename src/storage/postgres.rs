//! PostgreSQL implementation of [`Storage`] (placeholder while it is written).
use super::StorageError;
pub struct PostgresStorage;
impl PostgresStorage {
    pub async fn connect(_url: &str) -> Result<Self, StorageError> {
        Err(StorageError::Corrupt(
            "postgres storage not built yet".into(),
        ))
    }
}
