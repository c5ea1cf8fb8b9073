"""The language-model planner: each contact's plan and copy written by Gemini, checked like a hand-written plan."""
