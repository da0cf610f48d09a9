// The one counter every change event takes its sequence number from (see graph/changes.py).
MERGE (s:ChangeSequence {name: 'change'}) ON CREATE SET s.value = 0;
