"""Can a person who uses no mouse reach this control? (issue 15: every action reachable from the keyboard)

A button is reachable when Tab stops on it (its focus policy includes Qt.TabFocus), when it has a
shortcut or a mnemonic (&Save), or when it is part of a control the keyboard already drives (a tab
bar's close button, a scroll bar's arrows). An action is reachable when it has a shortcut, sits in a
menu that the keyboard opens (a menu-bar entry with a mnemonic, or the context menu of a widget Tab
reaches), or is the default action of a reachable tool button. A list or table that does something
on a double-click must do it on `activated` (double-click and Enter) instead. `unreachable(root)`
lists what is not reachable: the test that walks every screen for every role fails on any of them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QMenu,
    QMenuBar,
    QScrollBar,
    QTabBar,
    QToolButton,
    QWidget,
)

Unreachable = QAbstractButton | QAction | QAbstractItemView


def has_mnemonic(text: str) -> bool:
    """'&Save' has one (Alt+S); '&&' is a literal ampersand."""
    return "&" in text.replace("&&", "")


def tab_reachable(w: QWidget) -> bool:
    return bool(w.focusPolicy().value & Qt.FocusPolicy.TabFocus.value) and w.isEnabled()


def _inside_composite(w: QWidget) -> bool:
    """Parts Qt builds inside a control the keyboard already operates (the tab bar's scroll arrows,
    a combo's arrow, a spin box's buttons, the line edit's clear button, a scroll area's corner)."""
    parent = w.parentWidget()
    while parent is not None:
        if isinstance(parent, (QTabBar, QComboBox, QAbstractSpinBox, QLineEdit, QScrollBar)):
            return True
        if isinstance(parent, QAbstractScrollArea) and w.objectName().startswith("qt_"):
            return True
        parent = parent.parentWidget()
    return w.objectName().startswith("qt_")


def button_reachable(b: QAbstractButton) -> bool:
    if tab_reachable(b) or not b.shortcut().isEmpty() or has_mnemonic(b.text()):
        return True
    if isinstance(b, QToolButton):
        action = b.defaultAction()
        if action is not None and action_reachable(action):
            return True
    return False


def _menu_reachable(menu: QMenu, seen: set[int]) -> bool:
    """A menu opens from the keyboard: a menu-bar entry with a mnemonic, a submenu of such a menu,
    the menu of a reachable tool button, or a widget's context menu (the Menu key) where Tab stops."""
    if id(menu) in seen:
        return False
    seen.add(id(menu))
    action = menu.menuAction()
    for owner in action.associatedObjects():
        if isinstance(owner, QMenuBar) and has_mnemonic(action.text()):
            return True
        if isinstance(owner, QMenu) and _menu_reachable(owner, seen):
            return True
        if isinstance(owner, QToolButton) and tab_reachable(owner):
            return True
    parent = menu.parentWidget()
    return (parent is not None and not isinstance(parent, (QMenu, QMenuBar)) and tab_reachable(parent)
            and parent.contextMenuPolicy() != Qt.ContextMenuPolicy.NoContextMenu)


def _openers(menu: QMenu) -> list[QWidget]:
    """The widgets a person opens `menu` from: its menu-bar entry, parent menu or tool button."""
    found = [o for o in menu.menuAction().associatedObjects() if isinstance(o, QWidget)]
    parent = menu.parentWidget()
    if parent is not None and (not isinstance(parent, QToolButton) or parent.menu() is menu):
        found.append(parent)
    return found


def action_reachable(action: QAction) -> bool:
    if not action.shortcut().isEmpty():
        return True
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu) and _menu_reachable(owner, set()):
            return True
        if isinstance(owner, QMenuBar) and has_mnemonic(action.text()):
            return True
        if isinstance(owner, QToolButton) and tab_reachable(owner):
            return True
        if (isinstance(owner, QWidget) and not isinstance(owner, (QMenu, QMenuBar, QToolButton))
                and owner.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu and tab_reachable(owner)):
            return True
    return False


def _connected(obj: QWidget, signature: str) -> bool:
    meta = obj.metaObject()
    index = meta.indexOfSignal(signature)
    return index >= 0 and obj.isSignalConnected(meta.method(index))


def double_click_only(view: QAbstractItemView) -> bool:
    """Opens something on double-click but not on Enter (`activated` carries both)."""
    return _connected(view, "doubleClicked(QModelIndex)") and not _connected(view, "activated(QModelIndex)")


def _visible(w: QWidget, root: QWidget) -> bool:
    return w is root or w.isVisibleTo(root)


def unreachable(root: QWidget) -> list[Unreachable]:
    """Enabled, visible buttons and actions under `root` that the keyboard cannot reach."""
    found: list[Unreachable] = []
    for b in root.findChildren(QAbstractButton):
        if _visible(b, root) and b.isEnabled() and not _inside_composite(b) and not button_reachable(b):
            found.append(b)
    for view in root.findChildren(QAbstractItemView):
        if _visible(view, root) and view.isEnabled() and double_click_only(view):
            found.append(view)
    for action in root.findChildren(QAction):
        if not action.isVisible() or not action.isEnabled() or action.isSeparator() or not action.text():
            continue  # nameless actions are the Qt-made ones (a line edit's clear button, a menu's own)
        owners = [o for o in action.associatedObjects() if isinstance(o, QWidget)]
        # Only where it can be used at all: on a shown widget, or in a menu that opens from one that
        # is shown and enabled (a disabled "Controls" button's menu is out of reach of the mouse too).
        usable = [o for o in owners if (_visible(o, root) and o.isEnabled()) or (isinstance(o, QMenu) and any(
            _visible(x, root) and x.isEnabled() for x in _openers(o)))]
        if owners and not usable:
            continue
        if not action_reachable(action):
            found.append(action)
    return found


def describe(item: Unreachable) -> str:
    if isinstance(item, QAction):
        return f"QAction {item.text()!r}"
    chain: list[str] = []
    node: QWidget | None = item
    while node is not None and len(chain) < 5:
        chain.append(f"{type(node).__name__}({node.objectName()})")
        node = node.parentWidget()
    if isinstance(item, QAbstractItemView):
        return f"{type(item).__name__} {item.objectName()!r}: double-click only, no Enter (use activated)"
    return f"{type(item).__name__} {item.text()!r} {item.toolTip()[:60]!r} in " + " < ".join(chain[1:])
