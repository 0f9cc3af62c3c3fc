"""The Streamlit page, in sections: ``main.py`` runs them.

- ``loading``: the model, loaded once per bundle; the how-to-fix page when there is none;
- ``state``: the visitor's session and the callbacks that change it;
- ``sidebar``: mode, number of results, blend weights, filters;
- ``profile_page``: search, the movie lists (popular picks, recommendations, "More like this");
- ``profile_side``: the profile beside them: its movies and stars, saving, loading, sharing;
- ``movie_cards``: a movie as a card to rate, add or start "More like this" from, in place;
- ``user_page``: a user of the data set;
- ``about``: "About this model";
- ``cached``: the model calls, cached per bundle, and the posters; ``display``: titles,
  ratings, match scores, links, the genre chart; ``posters``: TMDB posters kept on disk;
- ``profile_files``: saving and loading a profile as JSON or CSV; ``profile_link``: the
  profile in the page's address (``?p=858:5,1221,2571:4``).

The page imports only ``recommender.Recommender`` (and ``Filters``, ``BundleError``) from the
model side, and how titles read (``recommender.titles.display_title``, ``title_years``).
"""
