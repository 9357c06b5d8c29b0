//! "Did you mean" suggestions for misspelt names.

/// The known name closest to `name`, if it is close enough to be a likely typo: within a
/// Damerau-Levenshtein distance of a third of the name's length (at least 1, at most 3).
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    known
        .into_iter()
        .map(|k| {
            let d = strsim::damerau_levenshtein(&name.to_lowercase(), &k.to_lowercase());
            (d, k)
        })
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, k)| (d, k))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_transpositions_and_typos() {
        let known = [
            "invoke-dapr-binding",
            "publish-to-dapr",
            "set-header",
            "set-body",
        ];
        assert_eq!(
            did_you_mean("invoke-darp-binding", known),
            Some("invoke-dapr-binding")
        );
        assert_eq!(
            did_you_mean("publish-to-darp", known),
            Some("publish-to-dapr")
        );
        assert_eq!(did_you_mean("set-headers", known), Some("set-header"));
        assert_eq!(did_you_mean("invoke-request", known), None);
        assert_eq!(did_you_mean("x", known), None);
    }
}
