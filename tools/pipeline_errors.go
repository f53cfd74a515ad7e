package tools

import (
	"fmt"
	"strings"

	"github.com/relmcrm/relm/schemas"
)

func pipelineKeyTaken(key string) *Error {
	e := NewError(CodeAlreadyExists, "A pipeline with key %q already exists in this workspace and mode. Choose another key, or change that pipeline with update_pipeline.", key)
	e.Param, e.ExistingID = "key", key
	return e
}

func stageKeyTaken(pipeline, key string) *Error {
	e := NewError(CodeAlreadyExists, "Pipeline %q already has a stage with key %q. Choose another key, or change that stage with update_pipeline_stage.", pipeline, key)
	e.Param, e.ExistingID = "key", key
	return e
}

func stageInUse(pipeline, stage string, n int) *Error {
	e := NewError(CodeStageInUse, "%s still in stage %q of pipeline %q. Move them to another stage with move_deal_stage (or delete them), then delete the stage.",
		dealCount(n), stage, pipeline)
	e.Param = "stage"
	return e
}

func pipelineInUse(pipeline string, n int) *Error {
	e := NewError(CodePipelineInUse, "%s still in pipeline %q. Move them to another pipeline with move_deal_stage (or delete them), then delete the pipeline.",
		dealCount(n), pipeline)
	e.Param = "pipeline"
	return e
}

func dealCount(n int) string {
	switch n {
	case 0: // only the database saw it: a deal moved in meanwhile
		return "Deals are"
	case 1:
		return "1 deal is"
	}
	return fmt.Sprintf("%d deals are", n)
}

// wonAndLost refuses a stage that would be both won and lost, naming field (is_won or
// is_lost, possibly under stages.N.).
func wonAndLost(field string) *Error {
	other := "is_won"
	if strings.HasSuffix(field, "is_won") {
		other = "is_lost"
	}
	return ValidationFailed([]schemas.FieldError{{Field: field, Message: "cannot be true while " + other +
		" is true: a stage is won or lost, not both (to switch a stage between won and lost, send " + other + ": false as well)"}})
}

func tooMany(what string, limit int) *Error {
	return NewError(CodeValidationFailed, "There are already %d %s, the most allowed. Delete one first.", limit, what)
}
