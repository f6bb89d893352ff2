"""Forms of the demand pages."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, NumberRange

from portal.forms import HIDDEN_MAX, max_length
from portal.safety import MAX_ID, clamp_int


class InterestForm(FlaskForm):
    """ "I want this track in my city": the track and the city, from hidden fields."""

    track_id = IntegerField(filters=[clamp_int], validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    city_id = IntegerField(filters=[clamp_int], validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    next = HiddenField(validators=[max_length(HIDDEN_MAX)])
