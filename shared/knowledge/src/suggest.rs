//! "Did you mean" suggestions for unknown names.

/// Up to `limit` candidates closest to `wanted`: those containing it (or contained in it)
/// first, then by normalised Levenshtein similarity above a floor.
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let w = wanted.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| {
            let l = c.to_ascii_lowercase();
            let contains = !w.is_empty() && (l.contains(&w) || w.contains(&l));
            let score = strsim::normalized_levenshtein(&w, &l) + if contains { 1.0 } else { 0.0 };
            (score, c)
        })
        .filter(|(s, _)| *s >= 0.45)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(limit)
        .map(|(_, c)| c.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_and_substrings_rank_first() {
        let names = [
            "iam-least-privilege-policies",
            "s3-bucket-setup",
            "lambda-troubleshooting",
        ];
        assert_eq!(
            closest("s3-bucket-set", names.into_iter(), 2)[0],
            "s3-bucket-setup"
        );
        assert_eq!(
            closest("lambda", names.into_iter(), 1),
            vec!["lambda-troubleshooting"]
        );
        assert!(closest("zzzzzzzz", names.into_iter(), 3).is_empty());
    }
}
