"""The Streamlit page, in sections: ``main.py`` runs them.

- ``loading``: the model, loaded once per bundle; the how-to-fix page when there is none;
- ``state``: the visitor's session and the callbacks that change it;
- ``sidebar``: mode, number of results, blend weights, filters;
- ``profile_page``: build a taste profile, see recommendations (or popular picks);
- ``user_page``: a user of the data set;
- ``about``: "About this model";
- ``cached``: the model calls, cached per bundle; ``display``: lists, tables, links, the chart;
- ``profile_files``: saving and loading a profile as JSON or CSV.

The page imports only ``recommender.Recommender`` (and ``Filters``, ``BundleError``) from the
model side.
"""
