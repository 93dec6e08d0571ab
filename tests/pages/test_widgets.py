"""Small page helpers: keys of selectable tables."""


def test_a_selectable_table_is_a_new_one_when_its_rows_change():
    from core.ui.widgets import rows_key

    assert rows_key("queue_table", [3, 5, 8]) == rows_key("queue_table", (3, 5, 8))
    assert rows_key("queue_table", [3, 5, 8]) != rows_key("queue_table", [5, 8, 13])  # two moved away
    assert rows_key("queue_table", [3, 5]) != rows_key("portal_requests_table", [3, 5])
