"""The assessment engine (部门整体支出绩效自评): the indicator tree, its scoring rules, budget
figures, checks, the scored view and its report text. Pure: stdlib and survey.core only."""
