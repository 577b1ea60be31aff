-- Schema 23: the register of printers (issue 12, point 4). Printing is egress: a printer carries the
-- accreditation label of the room and device (a marking), and content marked above it is refused.
-- A row proves nothing by itself: it counts only while the newest signed decision on the printer
-- (printer.register / printer.remove, app/services/printers.py) is an administrator's registration
-- naming this very label and location.
CREATE TABLE printers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,      -- the name the operating system gives the queue (Qt's QPrinterInfo)
    label TEXT NOT NULL,            -- accreditation label, banner form (e.g. SECRET//NOFORN)
    location TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
