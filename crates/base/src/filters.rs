//! Docker's `filters` semantics shared by every list and prune.

use std::collections::BTreeMap;

/// Whether `labels` satisfy every `key` or `key=value` filter of `want`
/// (no filter: yes).
pub fn labels_match(want: Option<&Vec<String>>, labels: &BTreeMap<String, String>) -> bool {
    want.is_none_or(|w| {
        w.iter().all(|f| match f.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
            None => labels.contains_key(f),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values() {
        let l: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
        assert!(labels_match(Some(&vec!["a=b".into()]), &l));
        assert!(labels_match(Some(&vec!["a".into()]), &l));
        assert!(!labels_match(Some(&vec!["a=c".into()]), &l));
        assert!(labels_match(None, &l));
    }
}
