"""The plot rows behind the Progress tab: running mastery with the store's windows."""

from coach.practice.progress import mastery_over_time
from coach.store.sessions import TOPIC_WINDOW


def test_running_mastery_per_topic_and_dimension():
    history = [
        {"ended_at": 1.0, "topic": "monitoring", "score": 40, "dimensions": {"metrics": 50}},
        {"ended_at": 2.0, "topic": "monitoring", "score": 80, "dimensions": {"metrics": 70, "data": 10}},
        {"ended_at": 3.0, "topic": "lifecycle", "score": None, "dimensions": {}},
    ]
    rows = mastery_over_time(history)
    topic = [(r["session"], r["mastery"]) for r in rows if r["group"] == "topic"]
    metrics = [(r["session"], r["mastery"]) for r in rows if r["name"] == "metrics"]
    assert topic == [(1, 40.0), (2, 60.0)]  # the unscored session adds no point
    assert metrics == [(1, 50.0), (2, 60.0)]
    assert [r["mastery"] for r in rows if r["name"] == "data"] == [10.0]


def test_topic_mastery_uses_the_latest_window_only():
    history = [{"ended_at": float(i), "topic": "monitoring", "score": 0 if i == 0 else 100, "dimensions": {}}
               for i in range(TOPIC_WINDOW + 1)]
    assert mastery_over_time(history)[-1]["mastery"] == 100.0  # the first 0 fell out of the window
