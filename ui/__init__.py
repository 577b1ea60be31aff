"""PySide6 user interface: a thin main window and one module per screen.

Conventions (the same text lives in the engineers' brief):

- Add a screen: one line in `ui.main_window.SCREENS`, e.g.
  `ScreenSpec("results", "Results", "ui.screens.results:ResultsScreen", Permission.VIEW_CONTENT)`.
  The factory ("module:Class" or a callable) is called as `factory(ctx)` when the screen is first
  shown; an optional `refresh()` runs every time it is shown and after unlock.
- Add a tab to a submission: one line in `ui.screens.submission_detail.SUBMISSION_TABS`;
  `factory(ctx, submission_id)`, built when first shown.
- Add a dashboard reminder: one line in `ui.screens.dashboard.DASHBOARD_PANELS`;
  `factory(ctx) -> QWidget | None`.
- Every screen receives a `ui.context.UiContext`: the session, the one job runner
  (`ctx.jobs.run(fn, on_done, ...)`, ui/jobs.py), the one error presenter (`ctx.show_error`),
  passphrase/confirm/text prompts and cross-screen signals (`ctx.events`). No globals.
- Work off the GUI thread goes through `ctx.jobs`; database work inside a job uses `ctx.session`
  like any other code (the session's runtime gives each thread its own SQLCipher connection), and
  screens refresh from `ctx.events.data_changed` (what each committed write changed).
- The UI never writes SQL and never decides authorisation: services do; the UI only hides what a
  role cannot use. Text from records and files is shown as plain text, never markup.
- Top-level windows that show content carry classification banners (ui/banner.py).
- Tests: tests/ui/conftest.py builds a `ctx` with a synchronous job runner and recorded dialogs.
"""
