"""This app's API routes, mounted under /api/v1/ by qdperf/urls.py."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("agencies", api.AgencyViewSet, basename="agency")
router.register("experts", api.ExpertViewSet, basename="expert")
router.register("conflict-ties", api.ConflictTieViewSet, basename="conflict-tie")
router.register("conflict-relations", api.ConflictRelationViewSet, basename="conflict-relation")
router.register("appraisal-criteria", api.AppraisalCriterionViewSet, basename="appraisal-criterion")
router.register("agency-appraisals", api.AgencyAppraisalViewSet, basename="agency-appraisal")
router.register("key-evaluation-assignments", api.KeyEvaluationAssignmentViewSet, basename="key-evaluation-assignment")
router.register("assessment-assignments", api.AssessmentAssignmentViewSet, basename="assessment-assignment")
router.register("my-assignments", api.MyAssignmentViewSet, basename="my-assignment")

urlpatterns = router.urls
