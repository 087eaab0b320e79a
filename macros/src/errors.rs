//! Every problem reported at once: a macro collects its errors and combines them, as serde_derive
//! does, so that a user fixes them in one round.

/// All collected errors as one, or `Ok` if there were none.
pub(crate) fn combine(errors: Vec<syn::Error>) -> syn::Result<()> {
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            errors.for_each(|error| first.combine(error));
            Err(first)
        }
    }
}
