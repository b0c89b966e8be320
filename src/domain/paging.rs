//! Pages of a list: which slice to read, and what one holds.

/// One page of a list and the size of the whole list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub count: u64,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    /// The same page with each item mapped.
    pub fn map<U>(self, item: impl FnMut(T) -> U) -> Page<U> {
        Page { count: self.count, items: self.items.into_iter().map(item).collect() }
    }
}

/// The most ids one status batch may ask about.
pub const MAX_STATUS_BATCH: usize = 100;
/// Page sizes: the default, and the most a client gets however many it asks for.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which slice of a list to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub offset: u64,
}

impl PageRequest {
    /// The `limit` of a page that holds the rest of the list.
    pub const WHOLE: u64 = i64::MAX as u64;

    /// Without `limit`, every item from `offset` on (the lists SelfCommunity's React UI reads
    /// once and never pages: preferences and features); with it, a page as [`PageRequest::new`].
    pub fn whole_unless_limited(limit: Option<u64>, offset: Option<u64>) -> Self {
        match limit {
            None => PageRequest { limit: Self::WHOLE, offset: offset.unwrap_or(0) },
            Some(_) => Self::new(limit, offset),
        }
    }

    /// `limit` defaults to 20 and is clamped to 100, as Django REST framework does.
    pub fn new(limit: Option<u64>, offset: Option<u64>) -> Self {
        PageRequest {
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE),
            offset: offset.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_clamp() {
        assert_eq!(PageRequest::new(None, None), PageRequest { limit: 20, offset: 0 });
        assert_eq!(PageRequest::new(Some(500), Some(40)), PageRequest { limit: 100, offset: 40 });
        assert_eq!(PageRequest::new(Some(7), None).limit, 7);
    }
}
